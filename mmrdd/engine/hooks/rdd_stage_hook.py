"""Switch RDD from TFE (stage 1) to TSE (stage 2) at a given iteration."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

TFE_STATS = ('tfe_weight', )
TSE_STATS = ('tse_selected', 'tse_hard_student', 'tse_hard_teacher')


@HOOKS.register_module()
class RDDStageHook(Hook):
    """Set the RDD stage before every training iteration.

    TFE-RDD runs for iterations ``[0, switch_iter)`` and TSE-RDD from
    ``switch_iter`` on. The stage is derived from ``runner.iter`` each time,
    so a resumed run continues in the right stage by construction. MMRazor's
    ``StopDistillHook`` acts per epoch and never fires inside an
    iteration-based schedule, hence this hook.

    After each iteration the stage (``rdd/stage``: 0 TFE, 1 TSE) and the
    statistics of the student decode head's weights go to the message hub,
    so the logger prints them every logging interval: ``rdd/tfe_weight``
    (mean TFE weight over valid pixels) in stage 1; ``rdd/tse_selected``
    (fraction of valid pixels selected) and ``rdd/tse_hard_student``,
    ``rdd/tse_hard_teacher`` (fractions hard for each) in stage 2.

    Args:
        switch_iter (int): First iteration of TSE; 0 runs TSE only and
            ``max_iters`` TFE only. Defaults to 4000 (the reference's 40k
            Cityscapes schedule).
    """

    priority = 'NORMAL'

    def __init__(self, switch_iter: int = 4000) -> None:
        if isinstance(switch_iter, bool) or not isinstance(switch_iter, int) \
                or switch_iter < 0:
            raise ValueError('RDDStageHook: switch_iter must be an int >= 0, '
                             f'got {switch_iter!r}.')
        self.switch_iter = switch_iter
        self._stage: Optional[str] = None

    @staticmethod
    def _distiller(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        distiller = getattr(model, 'distiller', None)
        if distiller is None or not hasattr(distiller, 'set_stage'):
            raise TypeError(
                'RDDStageHook needs a distillation model with an '
                "RDDDistiller (model.distiller=dict(type='RDDDistiller', "
                f'...)); got {type(model).__name__}.')
        return distiller

    def before_train(self, runner) -> None:
        """Check ``switch_iter`` against the schedule and the teacher."""
        if self.switch_iter > runner.max_iters:
            raise ValueError(
                f'RDDStageHook: switch_iter={self.switch_iter} is after the '
                f'end of training (max_iters={runner.max_iters}); use a value '
                f'in [0, {runner.max_iters}] ({runner.max_iters} = TFE only).')
        distiller = self._distiller(runner)
        if self.switch_iter > 0 and not distiller.teacher_has_aux:
            raise ValueError(
                'TFE-RDD (the first switch_iter iterations) needs the '
                "teacher's auxiliary head, and this teacher has none: use a "
                'teacher with an auxiliary_head or set switch_iter=0.')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        """Set the stage of this iteration from ``runner.iter``."""
        stage = 'tfe' if runner.iter < self.switch_iter else 'tse'
        self._distiller(runner).set_stage(stage)
        if stage != self._stage:
            runner.logger.info(f'RDD stage {stage.upper()} from iteration '
                               f'{runner.iter} (switch_iter='
                               f'{self.switch_iter})')
            stale = TFE_STATS if stage == 'tse' else TSE_STATS
            for name in stale:
                runner.message_hub.log_scalars.pop(f'train/rdd/{name}', None)
            self._stage = stage

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Publish the stage and the weight statistics of this iteration."""
        distiller = self._distiller(runner)
        hub = runner.message_hub
        hub.update_scalar('train/rdd/stage', float(distiller.stage == 'tse'))
        names = TFE_STATS if distiller.stage == 'tfe' else TSE_STATS
        for name in names:
            if name in distiller.stats:
                hub.update_scalar(f'train/rdd/{name}',
                                  float(distiller.stats[name]))
