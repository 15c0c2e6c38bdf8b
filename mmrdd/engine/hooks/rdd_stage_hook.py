# Copyright (c) mmrdd contributors. All rights reserved.
"""Switch RDD from TFE (stage 1) to TSE (stage 2) at the distiller's
``switch_iter``."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

#: The statistics each stage logs (``rdd/<name>`` in the loss dict).
STAGE_STATS = dict(
    tfe=('tfe_weight', ),
    tse=('tse_selected', 'tse_hard_student', 'tse_hard_teacher'))


@HOOKS.register_module()
class RDDStageHook(Hook):
    """Set the RDD stage before every training iteration.

    TFE-RDD runs for iterations ``[0, switch_iter)`` and TSE-RDD from
    ``switch_iter`` on, where ``switch_iter`` is the distiller's
    (``model.distiller.switch_iter``). The stage is derived from
    ``runner.iter`` each time, so a resumed run continues in the right stage
    by construction. MMRazor's ``StopDistillHook`` acts per epoch and never
    fires inside an iteration-based schedule, hence this hook.

    The statistics of RDD's weights (``rdd/stage``, ``rdd/tfe_weight``,
    ``rdd/tse_selected``, ...) travel in the loss dict; at the switch this
    hook drops the previous stage's from the message hub so the logger does
    not keep printing their last values.

    Args:
        switch_iter (None): Not an argument any more (it is
            ``model.distiller.switch_iter``); giving it is an error that
            says so. Defaults to None.
    """

    priority = 'NORMAL'

    def __init__(self, switch_iter: Optional[int] = None) -> None:
        if switch_iter is not None:
            raise ValueError(
                'RDDStageHook takes no switch_iter: the switch belongs to '
                f'the method, set model.distiller.switch_iter={switch_iter} '
                "and custom_hooks=[dict(type='RDDStageHook')].")
        self._stage: Optional[str] = None

    @staticmethod
    def _distiller(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        distiller = getattr(model, 'distiller', None)
        if distiller is None or not hasattr(distiller, 'stage_at'):
            raise TypeError(
                'RDDStageHook needs a distillation model with an '
                "RDDDistiller (model.distiller=dict(type='RDDDistiller', "
                f'...)); got {type(model).__name__}.')
        return distiller

    def before_train(self, runner) -> None:
        """Check ``switch_iter`` against the schedule."""
        switch_iter = self._distiller(runner).switch_iter
        if switch_iter > runner.max_iters:
            raise ValueError(
                f'model.distiller.switch_iter={switch_iter} is after the end '
                f'of training (max_iters={runner.max_iters}); use a value in '
                f'[0, {runner.max_iters}] ({runner.max_iters} = TFE only).')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        """Set the stage of this iteration from ``runner.iter``."""
        distiller = self._distiller(runner)
        stage = distiller.stage_at(runner.iter)
        distiller.set_stage(stage)
        if stage == self._stage:
            return
        runner.logger.info(f'RDD stage {stage.upper()} from iteration '
                           f'{runner.iter} (switch_iter='
                           f'{distiller.switch_iter})')
        for old, names in STAGE_STATS.items():
            if old != stage:
                for name in names:
                    runner.message_hub.log_scalars.pop(f'train/rdd/{name}',
                                                       None)
        self._stage = stage
