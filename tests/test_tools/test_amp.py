# Copyright (c) mmrdd contributors. All rights reserved.
"""``tools/train.py --amp`` on CPU: bfloat16 autocast instead of GPU AMP."""
import math

import pytest
import torch
from conftest import data_options, losses_in_log, run_tool
from mmengine.config import Config

import mmrdd  # noqa: F401
from mmrdd.runtime.launch import setup_amp

RDD_TOY = 'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
CPU_ONLY = pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the CPU replacement')


@CPU_ONLY
def test_setup_amp_replaces_the_gpu_wrapper_on_cpu():
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='AmpOptimWrapper',
                loss_scale='dynamic',
                optimizer=dict(type='SGD', lr=0.01))))
    setup_amp(cfg)
    assert cfg.optim_wrapper == dict(
        type='CPUAmpOptimWrapper', optimizer=dict(type='SGD', lr=0.01))
    plain = Config(dict(optim_wrapper=dict(type='OptimWrapper')))
    setup_amp(plain)
    assert plain.optim_wrapper.type == 'OptimWrapper'


@CPU_ONLY
def test_train_amp_on_cpu_through_the_stage_switch(toy_data, teacher_run,
                                                   tmp_path):
    iters, switch = 4, 2
    log = run_tool(
        'tools/train.py',
        RDD_TOY,
        '--amp',
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        *data_options(toy_data, iters=iters),
        f'model.teacher_ckpt={teacher_run["ckpt"]}',
        f'model.distiller.switch_iter={switch}',
        'model.distiller.tse.thresh=0.13',
        'model.distiller.tse.min_kept=1',
        'val_cfg=None',
        'val_dataloader=None',
        'val_evaluator=None',
        env=dict(OMP_NUM_THREADS='1'))
    assert 'mixed precision runs as bfloat16 CPU autocast' in log
    assert "type='CPUAmpOptimWrapper'" in log
    assert f'RDD stage TSE from iteration {switch}' in log
    assert losses_in_log(log, 'rdd/stage') == [0.0] * switch + [1.0] * (
        iters - switch)
    for key in ('loss', 'student.decode.loss_ce', 'student.aux.loss_ce',
                'distill.loss_kl'):
        values = losses_in_log(log, key)
        assert len(values) == iters and all(map(math.isfinite, values)), key
    selected = losses_in_log(log, 'rdd/tse_selected')
    assert selected and all(0 <= v <= 1 for v in selected)
