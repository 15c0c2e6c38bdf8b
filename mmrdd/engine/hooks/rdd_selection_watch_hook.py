# Copyright (c) mmrdd contributors. All rights reserved.
"""Say so in the log when TSE selected no pixel for a whole interval."""
from typing import Optional

from mmengine.hooks import Hook, LoggerHook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from mmrdd.arg_checks import is_int


@HOOKS.register_module()
class RDDSelectionWatchHook(Hook):
    """Warn when TSE-RDD selected nothing during a logging interval.

    With an empty selection the student's task loss is exactly 0 and it
    learns from the distillation loss alone; this usually means ``min_kept``
    was not scaled to the batch (see
    :class:`~mmrdd.models.RDDTSEDifficulty`). The hook reads the
    ``rdd/tse_selected`` values that the loss dict already logged (host
    floats: no device synchronisation).

    Args:
        interval (int, optional): Iterations per check. Defaults to None
            (the logger's interval).
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, interval: Optional[int] = None) -> None:
        if interval is not None and (not is_int(interval) or interval < 1):
            raise ValueError('RDDSelectionWatchHook: interval must be an int '
                             f'>= 1 or None, got {interval!r}.')
        self.interval = interval

    def before_train(self, runner) -> None:
        """Take the logger's interval unless one was given."""
        if self.interval is None:
            intervals = [
                h.interval for h in runner.hooks if isinstance(h, LoggerHook)
            ]
            self.interval = intervals[0] if intervals else 50

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Check the last ``interval`` values of ``rdd/tse_selected``."""
        if not self.every_n_train_iters(runner, self.interval):
            return
        scalars = runner.message_hub.log_scalars
        selected = scalars.get('train/rdd/tse_selected')
        if selected is None:
            return
        values = selected.data[0][-self.interval:]
        if len(values) == self.interval and not values.any():
            model = runner.model.module if is_model_wrapper(
                runner.model) else runner.model
            runner.logger.warning(
                f'RDD: TSE selected no pixel in the last {self.interval} '
                'iterations, so the student task loss was 0 (distillation '
                'loss only). Usually min_kept '
                f'({model.distiller.tse.min_kept}) is not below the valid '
                'of a batch: scale it as min_kept = 100000 / '
                '(4 * 512 * 1024) * batch_size * H * W.')
