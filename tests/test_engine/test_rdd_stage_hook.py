"""RDDStageHook: the stage follows runner.iter, also after a resume."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger

import mmrdd  # noqa: F401
from mmrdd.engine import RDDStageHook


class FakeDistiller:
    """Records the stages it is given, like RDDDistiller.set_stage."""

    def __init__(self, teacher_has_aux=True):
        self.teacher_has_aux = teacher_has_aux
        self.stage = None
        self.history = []
        self.stats = {}

    def set_stage(self, stage):
        self.stage = stage
        self.history.append(stage)
        self.stats = ({'tfe_weight': torch.tensor(0.75)} if stage == 'tfe'
                      else {'tse_selected': torch.tensor(0.25),
                            'tse_hard_student': torch.tensor(0.5),
                            'tse_hard_teacher': torch.tensor(0.375)})


def runner(distiller, max_iters=10, it=0, name='hook'):
    return SimpleNamespace(
        model=SimpleNamespace(distiller=distiller), iter=it,
        max_iters=max_iters,
        message_hub=MessageHub.get_instance(f'rdd-test-{name}-{it}'),
        logger=MMLogger.get_instance('rdd-test'))


def run(hook, r, start, stop):
    stages = []
    for it in range(start, stop):
        r.iter = it
        hook.before_train_iter(r, it)
        stages.append(r.model.distiller.stage)
        hook.after_train_iter(r, it)
    return stages


@pytest.mark.parametrize('switch', [0, 1, 4, 10])
def test_switches_at_switch_iter(switch):
    hook, dist = RDDStageHook(switch_iter=switch), FakeDistiller()
    r = runner(dist, name=f's{switch}')
    hook.before_train(r)
    stages = run(hook, r, 0, 10)
    assert stages == ['tfe'] * switch + ['tse'] * (10 - switch)


@pytest.mark.parametrize('resume_at', [3, 4, 5])
def test_resume_continues_in_the_right_stage(resume_at):
    """A fresh hook (as after --resume) derives the stage from runner.iter."""
    full = run(RDDStageHook(4), runner(FakeDistiller(), name='full'), 0, 10)
    first = run(RDDStageHook(4), runner(FakeDistiller(), name='a'), 0,
                resume_at)
    second = run(RDDStageHook(4), runner(FakeDistiller(), name='b'),
                 resume_at, 10)
    assert first + second == full


def test_logs_stage_and_statistics_of_the_current_stage_only():
    hook, dist = RDDStageHook(2), FakeDistiller()
    r = runner(dist, name='log')
    run(hook, r, 0, 2)
    scalars = r.message_hub.log_scalars
    assert scalars['train/rdd/stage'].current() == 0.0
    assert scalars['train/rdd/tfe_weight'].current() == 0.75
    run(hook, r, 2, 3)
    assert scalars['train/rdd/stage'].current() == 1.0
    assert scalars['train/rdd/tse_selected'].current() == 0.25
    assert scalars['train/rdd/tse_hard_teacher'].current() == 0.375
    assert 'train/rdd/tfe_weight' not in scalars  # no stale stage-1 value


def test_switch_iter_outside_schedule_is_rejected():
    hook = RDDStageHook(switch_iter=11)
    with pytest.raises(ValueError, match='after the end of training'):
        hook.before_train(runner(FakeDistiller(), max_iters=10))
    with pytest.raises(ValueError, match='int >= 0'):
        RDDStageHook(switch_iter=-1)
    with pytest.raises(ValueError, match='int >= 0'):
        RDDStageHook(switch_iter=2.5)


def test_tfe_without_teacher_aux_head_is_rejected_before_training():
    with pytest.raises(ValueError, match='auxiliary head'):
        RDDStageHook(4).before_train(runner(FakeDistiller(False)))
    RDDStageHook(0).before_train(runner(FakeDistiller(False)))  # TSE only


def test_model_without_rdd_distiller_is_rejected():
    r = runner(None)
    r.model = SimpleNamespace()
    with pytest.raises(TypeError, match='RDDDistiller'):
        RDDStageHook(4).before_train_iter(r, 0)
