# Copyright (c) mmrdd contributors. All rights reserved.
"""One log line for the frozen teacher instead of one per parameter.

With a ``paramwise_cfg`` (SegFormer's recipe, for one), MMEngine's
``DefaultOptimWrapperConstructor.add_params`` logs
``<name> is skipped since its requires_grad=False`` for every frozen
parameter: about a thousand warnings for a distillation teacher, which bury
what a user reads. :func:`frozen_params_summarised` logs what is frozen in
one line and keeps those lines out while the optimizer is built.
"""
import logging
from collections import OrderedDict
from contextlib import contextmanager
from typing import Dict, Iterator, Tuple

from mmengine.logging import MMLogger, print_log
from torch import nn

#: The end of MMEngine's per-parameter line.
SKIPPED = 'is skipped since its requires_grad=False'


class FrozenParamLogFilter(logging.Filter):
    """A logging filter that drops MMEngine's per-parameter
    ``... is skipped since its requires_grad=False`` lines and counts them.

    Attributes:
        dropped (int): The lines dropped so far.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """False (drop) for the per-parameter lines, True otherwise."""
        if str(record.msg).endswith(SKIPPED):
            self.dropped += 1
            return False
        return True


def frozen_params(model: nn.Module) -> Dict[str, Tuple[int, int]]:
    """``{top-level module: (tensors, values)}`` of the parameters with
    ``requires_grad=False`` (a wrapper's ``module`` unwrapped).

    Args:
        model (nn.Module): The model (a distillation algorithm: ``teacher``,
            ``architecture``, ...).

    Returns:
        dict[str, tuple[int, int]]: In the model's order; empty if nothing
        is frozen.
    """
    model = getattr(model, 'module', model)
    found: Dict[str, Tuple[int, int]] = OrderedDict()
    for name, param in model.named_parameters():
        if not param.requires_grad:
            top = name.split('.', 1)[0]
            tensors, values = found.get(top, (0, 0))
            found[top] = (tensors + 1, values + param.numel())
    return found


@contextmanager
def frozen_params_summarised(model: nn.Module,
                             logger: MMLogger) -> Iterator[None]:
    """Log the frozen parameters of ``model`` once, and drop MMEngine's
    per-parameter lines about them from ``logger`` inside the block.

    Args:
        model (nn.Module): The model whose optimizer is built inside.
        logger (MMLogger): The runner's logger (the ``'current'`` one
            that MMEngine's optimizer constructor writes to).

    Yields:
        None: Around ``runner.train()``.
    """
    frozen = frozen_params(model)
    if frozen:
        parts = [
            f'{top} ({tensors} tensors, {values:,} values)'
            for top, (tensors, values) in frozen.items()
        ]
        print_log(
            'requires_grad=False, not trained: ' + ', '.join(parts) +
            ' (MMEngine\'s per-parameter "is skipped" lines are left out).',
            logger=logger)
    log_filter = FrozenParamLogFilter()
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)
