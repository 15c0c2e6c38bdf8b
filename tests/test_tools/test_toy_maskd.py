# Copyright (c) mmrdd contributors. All rights reserved.
"""MasKD's two stages on the toy data through tools/train.py: stage 1
learns the tokens on the toy teacher (a tokens-only checkpoint that
``--resume`` continues), then MasKD alone and RDD + MasKD train on those
tokens, RDD + MasKD across the TFE -> TSE switch, with finite losses that
change from one iteration to the next; the student converter leaves a
plain MMSeg student."""
import glob
import json
import math
import os.path as osp

import pytest
import torch
from conftest import data_options, losses_in_log, run_tool, tse_options

pytestmark = pytest.mark.slow

STAGE1 = 'configs/rdd/maskd-tokens_deeplabv3_toy-r50_1xb8-500_toyseg-96x96.py'
TOY = '_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'
LOSSES = ('loss_maskd', 'loss_maskd_aux')


def _scalars(work_dir: str) -> list:
    """Every iteration's logged scalars at full precision."""
    paths = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def _stage1_options(toy_data: str, teacher_ckpt: str, iters: int) -> list:
    """A tiny stage-1 run: 2 crops per batch, a checkpoint per
    iteration, the poly schedule of 4 iterations (the same for the resumed
    run; MMEngine's PolyLR reaches lr 0 at its last iteration)."""
    return [
        f'train_dataloader.dataset.data_root={toy_data}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=2', f'train_cfg.max_iters={iters}',
        'param_scheduler.0.end=4', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=3',
        f'model.teacher_ckpt={teacher_ckpt}'
    ]


@pytest.fixture(scope='module')
def tokens_run(toy_data, teacher_run, tmp_path_factory):
    """Stage 1 for 2 iterations, then resumed for a third."""
    work_dir = str(tmp_path_factory.mktemp('maskd_tokens'))
    logs = []
    for iters, extra in ((2, []), (3, ['--resume'])):
        logs.append(
            run_tool('tools/train.py', STAGE1, '--work-dir', work_dir, *extra,
                     '--cfg-options',
                     *_stage1_options(toy_data, teacher_run['ckpt'], iters)))
    return dict(work_dir=work_dir, logs=logs)


def test_stage_one_learns_tokens_in_a_tokens_only_checkpoint(tokens_run):
    work_dir = tokens_run['work_dir']
    first, resumed = tokens_run['logs']
    states = [
        torch.load(osp.join(work_dir, f'iter_{i}.pth'),
                   map_location='cpu')['state_dict'] for i in (1, 2, 3)
    ]
    assert all(list(s) == ['tokens.mask_token'] for s in states)
    tokens = [s['tokens.mask_token'] for s in states]
    assert tokens[0].shape == (8, 8)  # 8 tokens over the 8 toy classes
    assert not torch.equal(tokens[0], tokens[1])  # trained
    assert not torch.equal(tokens[1], tokens[2])  # and trained on resuming
    assert 'resumed' in resumed.lower()
    assert 'Iter(train) [3/3]' in resumed
    assert 'Iter(train) [1/3]' not in resumed
    scalars = _scalars(work_dir)
    assert [s['iter'] for s in scalars] == [1, 2, 3]
    for key in ('loss_ce', 'loss_dice', 'mask_mean'):
        values = [s[key] for s in scalars]
        assert all(math.isfinite(v) for v in values), (key, values)
        assert len(set(values)) > 1, (key, values)
    assert all(0 < s['loss_dice'] <= 1 for s in scalars)
    assert len(losses_in_log(first, 'loss_ce')) == 2


@pytest.mark.parametrize('config',
                         ['maskd_logits' + TOY, 'rdd+maskd_logits' + TOY])
def test_distillation_trains_on_the_learned_tokens(config, toy_data,
                                                   teacher_run, tokens_run,
                                                   tmp_path):
    tokens = osp.join(tokens_run['work_dir'], 'iter_3.pth')
    iters = 2
    opts = data_options(
        toy_data, iters=iters) + [
            f'model.teacher_ckpt={teacher_run["ckpt"]}',
            'default_hooks.checkpoint.interval=2', 'val_cfg=None',
            'val_dataloader=None', 'val_evaluator=None'
        ] + [
            f'model.distiller.distill_losses.{n}.tokens={tokens}'
            for n in LOSSES
        ]
    rdd = config.startswith('rdd+')
    if rdd:
        opts += tse_options(
            teacher_run['ckpt']) + ['model.distiller.switch_iter=1']
    log = run_tool('tools/train.py', f'configs/rdd/{config}', '--work-dir',
                   str(tmp_path), '--cfg-options', *opts)
    if rdd:
        assert 'RDD stage TSE from iteration 1' in log
        assert losses_in_log(log, 'rdd/stage') == [0.0, 1.0]
    scalars = _scalars(str(tmp_path))
    assert [s['iter'] for s in scalars] == [1, 2]
    for key in [f'distill.{n}' for n in LOSSES] + ['student.decode.loss_ce']:
        values = [s[key] for s in scalars]
        assert all(math.isfinite(v) and v > 0 for v in values), (key, values)
        assert len(set(values)) > 1, (key, values)
    ckpt = osp.join(str(tmp_path), f'iter_{iters}.pth')
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    learned = torch.load(tokens, map_location='cpu')['state_dict']
    for name in LOSSES:
        assert torch.equal(
            state[f'distiller.distill_losses.{name}.mask_token'],
            learned['tokens.mask_token'])  # frozen
    out = run_tool('tools/model_converters/convert_kd_ckpt_to_student.py',
                   ckpt)
    assert 'student checkpoint' in out
    student = torch.load(
        osp.join(str(tmp_path), f'iter_{iters}_student.pth'),
        map_location='cpu')['state_dict']
    assert student and not any(
        k.startswith(
            ('architecture.', 'distiller.', 'teacher.')) or 'mask_token' in k
        for k in student)
    assert set(student) == {
        k[len('architecture.'):]
        for k in state if k.startswith('architecture.')
    }
