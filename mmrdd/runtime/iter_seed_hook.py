# Copyright (c) mmrdd contributors. All rights reserved.
"""Seed torch's RNG from the iteration, so that a resume is bit-exact."""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from mmrdd.arg_checks import is_int

#: Multiplier that spreads (seed, iteration) pairs over torch's seed space.
_STRIDE = 1_000_003


def iter_seed(base_seed: int, iteration: int) -> int:
    """The torch seed of training iteration ``iteration`` (0-based).

    Args:
        base_seed (int): The run's seed (``runner.seed``, which includes the
            rank with ``randomness.diff_rank_seed=True``).
        iteration (int): The iteration about to run.

    Returns:
        int: A seed in ``[0, 2**63)``, distinct for distinct iterations of
        one run.
    """
    return (int(base_seed) * _STRIDE + int(iteration) + 1) % (2**63)


@HOOKS.register_module()
class IterSeedHook(Hook):
    """Re-seed torch's RNG before every training iteration.

    MMEngine checkpoints the data order but not torch's RNG, so after
    ``--resume`` the student's dropout (and any other torch sampling in the
    step, e.g. CutMix boxes) draws other numbers than the uninterrupted run
    would have: the resumed run is the same training statistically, not
    bitwise. With this hook the torch RNG (CPU and every CUDA device) at
    iteration ``i`` is ``torch.manual_seed(iter_seed(seed, i))``, a function
    of the run's seed and ``i`` only, so an interrupted and resumed run gives
    exactly the weights of an uninterrupted one (with deterministic kernels).
    numpy's and Python's RNGs (the data pipeline's, which MMEngine replays on
    resume) are left alone.

    Off by default (an extension; the reference code seeds once). Enable it
    with ``custom_hooks.append(dict(type='IterSeedHook'))`` in a config.

    Args:
        seed (int, optional): Base seed. Defaults to None (``runner.seed``,
            i.e. ``randomness.seed``).
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: Optional[int] = None) -> None:
        if seed is not None and not is_int(seed):
            raise ValueError(
                f'IterSeedHook: seed must be an int or None, got {seed!r}')
        self.seed = seed

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Seed torch for the iteration about to run."""
        base = runner.seed if self.seed is None else self.seed
        torch.manual_seed(iter_seed(base, runner.iter))


# The name in mmrdd 0.1 configs: the same class.
HOOKS.register_module(name='RDDIterSeedHook', module=IterSeedHook)
