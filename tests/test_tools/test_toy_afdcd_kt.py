# Copyright (c) mmrdd contributors. All rights reserved.
"""Af-DCD and KT, alone and with RDD, train on the toy data through
tools/train.py: RDD across its TFE -> TSE switch, KT across its tuning
point, with finite losses that change from one iteration to the next;
Af-DCD's alignment and projector are trained, KT's tailoring modules stay
as initialised (the official optimizer holds the student only), and the
student converter drops both."""
import math
import os.path as osp

import pytest
import torch
from conftest import data_options, losses_in_log, run_tool
from mmengine.config import Config
from test_toy_kd_family import _scalars

pytestmark = pytest.mark.slow

TOY = '_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'
CONFIGS = [
    f'configs/rdd/{rdd}{method}_feat{TOY}' for method in ('afdcd', 'kt')
    for rdd in ('', 'rdd+')
]
ITERS = 2
LEARNED = {
    'afdcd': 'distiller.distill_losses.loss_afdcd.projector.block_1.0.weight',
    'kt': 'distiller.distill_losses.loss_kt_feat.student_tail.0.weight',
}


@pytest.mark.parametrize('config', CONFIGS)
def test_toy_config_trains_and_converts(config, toy_data, teacher_run,
                                        tmp_path):
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
            config))
    rdd = 'rdd+' in config
    method = 'kt' if '/kt_' in config or '+kt_' in config else 'afdcd'
    opts = data_options(
        toy_data, iters=ITERS) + [
            f'model.teacher_ckpt={teacher_run["ckpt"]}',
            'default_hooks.checkpoint.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=2',
            'val_cfg=None',
            'val_dataloader=None',
            'val_evaluator=None',
        ]
    if rdd:
        opts += [
            'model.distiller.switch_iter=1',
            # a non-empty XOR selection with a barely trained teacher
            'model.distiller.tse.thresh=0.13',
            'model.distiller.tse.min_kept=1',
        ]
    if method == 'kt':  # the teacher tailored from the second iteration
        opts.append('model.distiller.distill_losses.loss_kt_feat.'
                    'tuning_iter=1')
    log = run_tool('tools/train.py', config, '--work-dir', str(tmp_path),
                   '--cfg-options', *opts)
    if rdd:
        assert 'RDD stage TSE from iteration 1' in log
        assert losses_in_log(log, 'rdd/stage') == [0.0, 1.0]
    scalars = _scalars(str(tmp_path))
    assert [s['iter'] for s in scalars] == list(range(1, ITERS + 1))
    names = [f'distill.{n}' for n in cfg.model.distiller.distill_losses]
    for key in names + ['student.decode.loss_ce']:
        values = [s[key] for s in scalars]
        assert all(math.isfinite(v) for v in values), (key, values)
        assert len(set(values)) > 1, (key, values)  # not constant

    first = torch.load(osp.join(tmp_path, 'iter_1.pth'), map_location='cpu')
    last = torch.load(
        osp.join(tmp_path, f'iter_{ITERS}.pth'), map_location='cpu')
    key = LEARNED[method]
    changed = not torch.equal(first['state_dict'][key],
                              last['state_dict'][key])
    assert changed == (method == 'afdcd'), key

    run_tool('tools/model_converters/convert_kd_ckpt_to_student.py',
             osp.join(tmp_path, f'iter_{ITERS}.pth'))
    converted = torch.load(
        osp.join(tmp_path, f'iter_{ITERS}_student.pth'), map_location='cpu')
    keys = set(converted['state_dict'])
    assert keys and not any(
        k.startswith(('architecture.', 'distiller.', 'teacher.'))
        for k in keys)
    assert keys == {
        k[len('architecture.'):]
        for k in last['state_dict'] if k.startswith('architecture.')
    }
