# Copyright (c) mmrdd contributors. All rights reserved.
"""IterSeedHook: torch's RNG at an iteration depends on (seed, iter) only."""
from types import SimpleNamespace

import pytest
import torch

import mmrdd  # noqa: F401
from mmrdd.runtime import IterSeedHook
from mmrdd.runtime.iter_seed_hook import iter_seed


def draws(hook, seed, it, before=0):
    torch.manual_seed(1234)
    torch.rand(before)  # whatever happened earlier in the process
    hook.before_train_iter(SimpleNamespace(seed=seed, iter=it), it)
    return torch.rand(5)


def test_draws_depend_on_seed_and_iteration_only():
    hook = IterSeedHook()
    a = draws(hook, seed=0, it=7)
    # the RNG history before the iteration does not matter (a resume)
    assert torch.equal(a, draws(hook, seed=0, it=7, before=1000))
    torch.manual_seed(iter_seed(0, 7))
    assert torch.equal(a, torch.rand(5))
    # another iteration or another seed draws other numbers
    assert not torch.equal(a, draws(hook, seed=0, it=8))
    assert not torch.equal(a, draws(hook, seed=1, it=7))


def test_explicit_seed_overrides_runner_seed():
    a = draws(IterSeedHook(seed=5), seed=0, it=3)
    assert torch.equal(a, draws(IterSeedHook(), seed=5, it=3))


def test_iter_seeds_are_distinct_and_in_range():
    seeds = {iter_seed(s, i) for s in (0, 1, 2**40) for i in range(1000)}
    assert len(seeds) == 3000
    assert all(0 <= s < 2**63 for s in seeds)


@pytest.mark.parametrize('seed', [1.5, '3', True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match='seed must be an int'):
        IterSeedHook(seed=seed)


def test_old_config_names_build_the_renamed_classes():
    """mmrdd 0.1 configs name RDDIterSeedHook and RDDCPUAmpOptimWrapper."""
    import torch
    from mmengine.registry import OPTIM_WRAPPERS
    from mmseg.registry import HOOKS

    from mmrdd.runtime import CPUAmpOptimWrapper
    assert type(HOOKS.build(dict(type='RDDIterSeedHook'))) is IterSeedHook
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='RDDCPUAmpOptimWrapper', optimizer=opt))
    assert type(wrapper) is CPUAmpOptimWrapper
