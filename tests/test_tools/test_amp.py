# Copyright (c) mmrdd contributors. All rights reserved.
"""``tools/train.py --amp`` on CPU: bfloat16 autocast instead of GPU AMP."""
import pytest
import torch
from conftest import (check_switch_log, data_options, losses_in_log, run_tool,
                      tse_options)
from mmengine.config import Config

import mmrdd  # noqa: F401
from mmrdd.runtime.launch import setup_amp

pytestmark = pytest.mark.slow

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
        f'model.distiller.switch_iter={switch}',
        *tse_options(teacher_run['ckpt']),
        env=dict(OMP_NUM_THREADS='1'))
    assert 'mixed precision runs as bfloat16 CPU autocast' in log
    assert "type='CPUAmpOptimWrapper'" in log
    check_switch_log(log, iters, switch)
    selected = losses_in_log(log, 'rdd/tse_selected')
    assert selected and all(0 <= v <= 1 for v in selected)
