# Copyright (c) mmrdd contributors. All rights reserved.
"""RDDStageHook on a real tiny MMEngine runner: the stage follows
runner.iter (also after a resume) and the statistics of the current stage
only are logged."""
import pytest
import torch
from _toy_models import rdd_cfg, tiny_runner
from mmengine.hooks import Hook

import mmrdd  # noqa: F401
from mmrdd.engine import RDDStageHook


class StageSpy(Hook):
    """Records the distiller's stage at every iteration (after ours)."""

    priority = 'LOW'

    def __init__(self) -> None:
        self.stages = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.stages.append(runner.model.distiller.stage)


def build_runner(tmp_path,
                 switch_iter,
                 max_iters=6,
                 name='stage',
                 load_from=None,
                 hooks=(),
                 **distiller):
    torch.manual_seed(0)
    spy = StageSpy()
    runner = tiny_runner(
        tmp_path,
        rdd_cfg(switch_iter=switch_iter, **distiller),
        f'{name}-{switch_iter}', [dict(type='RDDStageHook'), spy, *hooks],
        max_iters,
        checkpoint_interval=1,
        load_from=load_from,
        resume=load_from is not None)
    return runner, spy


@pytest.mark.parametrize('switch', [0, 2, 6])
def test_switches_at_switch_iter(tmp_path, switch):
    runner, spy = build_runner(tmp_path, switch)
    runner.train()
    assert spy.stages == ['tfe'] * switch + ['tse'] * (6 - switch)


def test_resume_continues_in_the_right_stage(tmp_path):
    """A fresh runner resumed at iteration 3 derives the stage from it."""
    full, full_spy = build_runner(tmp_path / 'full', 2)
    full.train()
    resumed, spy = build_runner(
        tmp_path / 'resumed',
        2,
        name='resumed',
        load_from=str(tmp_path / 'full' / 'iter_3.pth'))
    resumed.train()
    assert spy.stages == full_spy.stages[3:] == ['tse'] * 3


def test_logs_the_statistics_of_the_current_stage_only(tmp_path):
    runner, _ = build_runner(tmp_path, 3, max_iters=3)
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert scalars['train/rdd/stage'].current() == 0.0
    assert 0 < scalars['train/rdd/tfe_weight'].current() <= 1
    assert 'train/rdd/tse_selected' not in scalars
    runner, _ = build_runner(tmp_path / 'b', 1, max_iters=3)
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert scalars['train/rdd/stage'].current() == 1.0
    for name in ('tse_selected', 'tse_hard_student', 'tse_hard_teacher'):
        assert 0 <= scalars[f'train/rdd/{name}'].current() <= 1, name
    # the TFE value of iteration 0 was dropped at the switch
    assert 'train/rdd/tfe_weight' not in scalars


def test_switch_iter_outside_schedule_is_rejected(tmp_path):
    runner, _ = build_runner(tmp_path, 7)
    with pytest.raises(ValueError, match='after the end of training'):
        runner.train()


def test_switch_iter_is_an_argument_of_the_distiller():
    with pytest.raises(ValueError, match='set model.distiller.switch_iter=4'):
        RDDStageHook(switch_iter=4)
    from mmrazor.registry import MODELS
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match='int >= 0'):
            MODELS.build(rdd_cfg(switch_iter=bad))


def test_model_without_rdd_distiller_is_rejected(tmp_path):
    runner, _ = build_runner(tmp_path, 2)
    runner.model.distiller = torch.nn.Identity()
    with pytest.raises(TypeError, match='RDDDistiller'):
        runner.train()


@pytest.mark.parametrize('min_kept, mode, warned', [(10**6, 'xor', True),
                                                    (100, 'student', False)])
def test_selection_watch_says_when_tse_selected_nothing(
        tmp_path, min_kept, mode, warned):
    runner, _ = build_runner(
        tmp_path,
        0,
        max_iters=4,
        hooks=[dict(type='RDDSelectionWatchHook', interval=2)],
        tse=dict(type='RDDTSEDifficulty', min_kept=min_kept, mode=mode))
    runner.train()
    log = open(runner.logger.log_file).read()
    message = 'TSE selected no pixel in the last 2 iterations'
    assert (message in log) == warned
    if warned:
        assert f'min_kept ({min_kept})' in log
