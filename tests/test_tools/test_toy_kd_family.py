# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD + each segmentation KD method trains on the toy data through
tools/train.py, across the TFE -> TSE switch, with finite losses that change
from one iteration to the next; RDD + CIRKD's learned projection (MMRazor
connectors) is trained, checkpointed and dropped by the student converter.
"""
import glob
import json
import math
import os.path as osp

import pytest
import torch
from conftest import ROOT, data_options, losses_in_log, run_tool
from mmengine.config import Config

pytestmark = pytest.mark.slow

METHODS = ('at_feat', 'dsd_feat', 'cirkd_feat', 'skd_feat', 'ifvd_feat',
           'cwd_feat', 'fitnet_feat', 'dist_logits')
CONFIGS = sorted(
    osp.relpath(p, ROOT) for m in METHODS for p in glob.glob(
        osp.join(ROOT, 'configs', 'rdd', f'rdd+{m}_*_toyseg-*.py')))
ITERS = 2


def test_every_method_has_a_toy_config():
    assert len(CONFIGS) == len(METHODS)
    for m in METHODS:
        assert any(osp.basename(c).startswith(f'rdd+{m}_') for c in CONFIGS)


def _scalars(work_dir: str) -> list:
    """Every iteration's logged scalars at full precision (the text log
    rounds to 4 decimals; DSD's category term is smaller)."""
    paths = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert len(paths) == 1, paths
    with open(paths[0]) as f:
        return [json.loads(line) for line in f if line.strip()]


def _trainable(model: torch.nn.Module) -> int:
    return sum(1 for p in model.parameters() if p.requires_grad)


def _check_connectors(cfg: Config, work_dir: str) -> None:
    """The projection is in the checkpoint and the optimizer, it is trained,
    and the converter leaves a clean MMSeg student."""
    from mmengine.registry import DefaultScope
    from mmrazor.registry import MODELS as RAZOR_MODELS
    from mmseg.registry import MODELS as SEG_MODELS

    import mmrdd  # noqa: F401

    with DefaultScope.overwrite_default_scope('mmseg'):
        algo = RAZOR_MODELS.build(dict(cfg.model, teacher_ckpt=None))
        student = SEG_MODELS.build(cfg.model.architecture)
    n_conn = _trainable(algo.distiller.connectors)
    assert n_conn == 4  # conv, BN weight and bias, conv
    assert _trainable(algo.architecture) > 0
    first = torch.load(osp.join(work_dir, 'iter_1.pth'), map_location='cpu')
    last = torch.load(
        osp.join(work_dir, f'iter_{ITERS}.pth'), map_location='cpu')
    key = 'distiller.connectors.cirkd_proj.0.conv_module.conv.weight'
    assert key in last['state_dict']
    assert not torch.equal(first['state_dict'][key], last['state_dict'][key])
    assert 'distiller.distill_losses.loss_cirkd_pixel.queue' in \
        last['state_dict']
    # optimizer entries follow MMEngine's traversal of the algorithm's
    # modules; momentum state exists for the parameters that got gradients
    names = [
        f'{mod}.{par}' if mod else par for mod, module in algo.named_modules()
        for par, _ in module.named_parameters(recurse=False)
    ]
    order = [i for g in last['optimizer']['param_groups'] for i in g['params']]
    assert len(order) == len(names)
    name_of = dict(zip(order, names))
    updated = {name_of[i] for i in last['optimizer']['state']}
    connectors = {n for n in names if n.startswith('distiller.connectors.')}
    assert len(connectors) == n_conn and connectors <= updated
    assert updated == connectors | {
        n
        for n in names if n.startswith('architecture.')
    }

    out = run_tool('tools/model_converters/convert_kd_ckpt_to_student.py',
                   osp.join(work_dir, f'iter_{ITERS}.pth'))
    assert 'student checkpoint' in out
    converted = torch.load(
        osp.join(work_dir, f'iter_{ITERS}_student.pth'), map_location='cpu')
    keys = set(converted['state_dict'])
    assert keys == set(student.state_dict())
    assert not any(
        k.startswith(('architecture.', 'distiller.', 'teacher.'))
        for k in keys)
    student.load_state_dict(converted['state_dict'], strict=True)


@pytest.mark.parametrize('config', CONFIGS)
def test_rdd_plus_method_trains_across_the_switch(config, toy_data,
                                                  teacher_run, tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, config))
    names = sorted(cfg.model.distiller.distill_losses)
    assert names and all(n.startswith('loss_') for n in names)
    opts = data_options(
        toy_data, iters=ITERS) + [
            f'model.teacher_ckpt={teacher_run["ckpt"]}',
            'model.distiller.switch_iter=1',
            # a non-empty XOR selection with a barely trained teacher
            'model.distiller.tse.thresh=0.13',
            'model.distiller.tse.min_kept=1',
            'default_hooks.checkpoint.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=2',
            'val_cfg=None',
            'val_dataloader=None',
            'val_evaluator=None'
        ]
    log = run_tool('tools/train.py', config, '--work-dir', str(tmp_path),
                   '--cfg-options', *opts)
    assert 'RDD stage TSE from iteration 1' in log
    assert losses_in_log(log, 'rdd/stage') == [0.0, 1.0]
    scalars = _scalars(str(tmp_path))
    assert [s['iter'] for s in scalars] == list(range(1, ITERS + 1))
    for name in names + ['student.decode.loss_ce']:
        key = name if name.startswith('student.') else f'distill.{name}'
        assert len(losses_in_log(log, key)) == ITERS, key
        values = [s[key] for s in scalars]
        assert all(math.isfinite(v) for v in values), (key, values)
        assert len(set(values)) > 1, (key, values)  # not constant
    if 'cirkd' in config:
        _check_connectors(cfg, str(tmp_path))
