# Copyright (c) mmrdd contributors. All rights reserved.
"""--resume around the RDD stage switch gives the uninterrupted run's weights.

Deterministic toy setting: ``num_workers=0`` (the data augmentation,
PhotoMetricDistortion included, draws from the main process's numpy RNG,
seeded by ``randomness.seed``; on resume MMEngine replays the skipped
batches through the pipeline, so the RNG reaches the same state), and the
student heads' dropout off: MMEngine does not save or restore the torch RNG
state, so after a resume dropout would draw different masks than the
uninterrupted run (the resumed run is then statistically, not bitwise,
equivalent). The teacher runs in eval mode and draws nothing.

With dropout on, ``IterSeedHook`` (opt-in) makes the resume bit-exact
too: the last test.

A run "stopped" at iteration k is represented two ways: a run with
``train_cfg.max_iters=k`` (the PolyLR ``end`` kept at the full schedule's),
and the full run's ``iter_k.pth`` alone in a fresh work dir (what a killed
run leaves behind).
"""
import os.path as osp
import shutil

import pytest
import torch
from conftest import ROOT, data_options, losses_in_log, run_tool

import mmrdd  # noqa: F401  (loads mmengine checkpoints on torch>=2.6)

pytestmark = pytest.mark.slow

RDD_TOY = 'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
ITERS, SWITCH = 6, 3
LOGGED = ('student.decode.loss_ce', 'student.aux.loss_ce', 'distill.loss_kl',
          'rdd/stage')


def options(toy_data, teacher_ckpt, max_iters=ITERS):
    return [
        *data_options(toy_data, iters=ITERS),
        f'train_cfg.max_iters={max_iters}',
        f'model.teacher_ckpt={teacher_ckpt}',
        f'model.distiller.switch_iter={SWITCH}',
        # A non-empty XOR selection at every TSE step (checked below): the
        # barely trained models have q of about 0.13-0.3 on 8 classes, so
        # thresh 0.15 splits them; 0.13 or 0.2 (or the schedule's lr 0.05)
        # make both masks equal or full.
        'model.distiller.tse.thresh=0.15',
        'model.distiller.tse.min_kept=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'optim_wrapper.optimizer.lr=0.02',
        'randomness.seed=0',
        'randomness.deterministic=True',
        'model.architecture.decode_head.dropout_ratio=0',
        'model.architecture.auxiliary_head.dropout_ratio=0',
        'val_cfg=None',
        'val_dataloader=None',
        'val_evaluator=None',
    ]


def train(work_dir, opts, resume=False, config=RDD_TOY):
    args = ['tools/train.py', str(config), '--work-dir', str(work_dir)]
    if resume:
        args.append('--resume')
    return run_tool(
        *args, '--cfg-options', *opts, env=dict(OMP_NUM_THREADS='1'))


def weights(path):
    return torch.load(path)['state_dict']


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'{len(different)} differ, e.g. {different[:3]}'


@pytest.fixture(scope='module')
def full_run(toy_data, teacher_run, tmp_path_factory):
    """The uninterrupted run, with a checkpoint at every iteration."""
    work_dir = tmp_path_factory.mktemp('full')
    log = train(work_dir, options(toy_data, teacher_run['ckpt']))
    return dict(work_dir=str(work_dir), log=log)


def test_two_uninterrupted_runs_are_bit_identical(full_run, toy_data,
                                                  teacher_run, tmp_path):
    log = train(tmp_path, options(toy_data, teacher_run['ckpt']))
    for it in range(1, ITERS + 1):
        assert_same_weights(
            weights(osp.join(full_run['work_dir'], f'iter_{it}.pth')),
            weights(tmp_path / f'iter_{it}.pth'))
    for key in LOGGED:
        assert losses_in_log(log, key) == losses_in_log(full_run['log'], key)
    # the student's TSE selection is not empty (the stage changes training)
    selected = losses_in_log(log, 'rdd/tse_selected')
    assert len(selected) == ITERS - SWITCH and all(
        0 < v < 1 for v in selected), (selected,
                                       losses_in_log(log,
                                                     'rdd/tse_hard_student'),
                                       losses_in_log(log,
                                                     'rdd/tse_hard_teacher'))


def check_resumed(log, full_run, k, stage_lines):
    assert f'resumed epoch: 0, iter: {k}' in log
    for line in stage_lines:
        assert line in log
    assert log.count('RDD stage') == len(stage_lines)
    for key in LOGGED:  # same values, windowed averages included
        assert losses_in_log(log, key) == losses_in_log(full_run['log'],
                                                        key)[k:], key


@pytest.mark.parametrize(
    'k, stage_lines',
    [
        # stopped before the last TFE iteration: the switch comes after
        # the resume
        (SWITCH - 1, [
            f'RDD stage TFE from iteration {SWITCH - 1}',
            f'RDD stage TSE from iteration {SWITCH}'
        ]),
        # stopped exactly at the switch: the resumed run starts in TSE
        (SWITCH, [f'RDD stage TSE from iteration {SWITCH}']),
    ])
def test_resume_from_checkpoint_before_the_switch(full_run, toy_data,
                                                  teacher_run, tmp_path, k,
                                                  stage_lines):
    shutil.copy(osp.join(full_run['work_dir'], f'iter_{k}.pth'), tmp_path)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / f'iter_{k}.pth'))
    log = train(tmp_path, options(toy_data, teacher_run['ckpt']), resume=True)
    check_resumed(log, full_run, k, stage_lines)
    assert_same_weights(
        weights(osp.join(full_run['work_dir'], f'iter_{ITERS}.pth')),
        weights(tmp_path / f'iter_{ITERS}.pth'))


def test_run_stopped_after_the_switch_resumes_in_tse(full_run, toy_data,
                                                     teacher_run, tmp_path):
    k = SWITCH + 1
    opts = options(toy_data, teacher_run['ckpt'])
    log = train(tmp_path, options(toy_data, teacher_run['ckpt'], max_iters=k))
    assert f'RDD stage TSE from iteration {SWITCH}' in log
    assert_same_weights(
        weights(osp.join(full_run['work_dir'], f'iter_{k}.pth')),
        weights(tmp_path / f'iter_{k}.pth'))
    log = train(tmp_path, opts, resume=True)
    check_resumed(log, full_run, k, [f'RDD stage TSE from iteration {k}'])
    assert_same_weights(
        weights(osp.join(full_run['work_dir'], f'iter_{ITERS}.pth')),
        weights(tmp_path / f'iter_{ITERS}.pth'))


def with_dropout(opts):
    return [o for o in opts if 'dropout_ratio' not in o]


@pytest.mark.parametrize('seed_hook', [True, False])
def test_resume_with_dropout_is_exact_only_with_iter_seed_hook(
        toy_data, teacher_run, tmp_path, seed_hook):
    """Dropout on (0.1, the toy heads'): with IterSeedHook the resumed
    run ends on the uninterrupted run's weights; without it, it does not
    (so the hook is what makes the difference)."""
    config = tmp_path / 'rdd_toy_dropout.py'
    hooks = "dict(type='RDDStageHook')"
    if seed_hook:
        hooks += ", dict(type='IterSeedHook')"
    config.write_text(f"_base_ = ['{osp.join(ROOT, RDD_TOY)}']\n"
                      f'custom_hooks = [{hooks}]\n')
    opts = with_dropout(options(toy_data, teacher_run['ckpt']))
    full, resumed = tmp_path / 'full', tmp_path / 'resumed'
    train(full, opts, config=config)
    k = SWITCH + 1
    resumed.mkdir()
    shutil.copy(full / f'iter_{k}.pth', resumed)
    (resumed / 'last_checkpoint').write_text(str(resumed / f'iter_{k}.pth'))
    train(resumed, opts, resume=True, config=config)
    a = weights(full / f'iter_{ITERS}.pth')
    b = weights(resumed / f'iter_{ITERS}.pth')
    if seed_hook:
        assert_same_weights(a, b)
    else:
        assert any(not torch.equal(a[key], b[key]) for key in a)
