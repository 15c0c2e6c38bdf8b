# Copyright (c) mmrdd contributors. All rights reserved.
"""The whole RDD step on CUDA: against the CPU, under autocast against
float32, and trained by MMEngine's ``AmpOptimWrapper`` through both stages.

The toy algorithm of the CPU tests (``_toy_models.rdd_cfg``: DeepLabV3-like
student and teacher, pixel KD, TFE then TSE-XOR) with sharpened heads, so
that TSE selects part of the pixels.
"""
import copy

import pytest
import torch
from _cuda_helpers import (LOSS_RTOL, STAT_ATOL, assert_losses_close,
                           build_rdd, on_device, rdd_losses)
from _toy_models import batch
from mmengine.optim import build_optim_wrapper

pytestmark = pytest.mark.cuda

TSE = dict(type='RDDTSEDifficulty', min_kept=50)
#: Small enough that the two runs of the AMP test stay comparable step by
#: step (the sharpened toy heads have large gradients).
LR = 1e-4


@pytest.mark.parametrize('stage', ['tfe', 'tse'])
def test_rdd_losses_on_device_match_the_cpu(device, stage):
    """Same weights, same batch: every loss within float32 rounding of the
    CPU's, every statistic within two pixels of the selection."""
    model = build_rdd(tse=TSE)
    copy_on_device = on_device(model, device)
    ref = rdd_losses(model, torch.device('cpu'), stage)
    got = rdd_losses(copy_on_device, device, stage)
    assert_losses_close(got, ref, rtol=1e-4, atol=1e-5, stat_atol=2 / 2400)
    if stage == 'tse':  # not vacuous: a partial selection
        assert 0 < float(ref['rdd/tse_selected']) < 1


@pytest.mark.parametrize('stage', ['tfe', 'tse'])
def test_rdd_losses_under_autocast_match_float32(device, amp_dtype, stage):
    """Under autocast the networks run in ``amp_dtype`` (the recorded
    logits say so) and RDD's losses and statistics stay float32, within the
    dtype's rounding of the float32 step."""
    model = on_device(build_rdd(tse=TSE), device)
    ref = rdd_losses(model, device, stage)
    got = rdd_losses(model, device, stage, dtype=amp_dtype)
    for from_student in (True, False):
        logits = model.distiller.get_record(
            'logits', from_student=from_student)
        assert logits.dtype == amp_dtype
    assert_losses_close(
        got, ref, rtol=LOSS_RTOL[amp_dtype], atol=1e-3, stat_atol=STAT_ATOL)


def amp_wrapper_cfg(device: torch.device, dtype: torch.dtype) -> dict:
    """``AmpOptimWrapper`` on CUDA (``tools/train.py --amp``); on the CPU of
    the dry run ``CPUAmpOptimWrapper``, which is bfloat16 only."""
    optimizer = dict(type='SGD', lr=LR, momentum=0.9)
    if device.type == 'cuda':
        return dict(
            type='AmpOptimWrapper',
            dtype=str(dtype).split('.')[-1],
            loss_scale='dynamic',
            optimizer=optimizer)
    if dtype == torch.float16:
        pytest.skip('float16 AmpOptimWrapper needs CUDA; its CPU '
                    'replacement CPUAmpOptimWrapper is bfloat16 only')
    return dict(type='CPUAmpOptimWrapper', optimizer=optimizer)


def test_amp_optim_wrapper_trains_through_both_stages(device, amp_dtype):
    """Four ``train_step`` calls (TFE, TFE, TSE, TSE) with the AMP wrapper
    beside a float32 ``OptimWrapper`` from the same weights: finite losses,
    the total loss and the TSE selection close to float32's, the student
    updated, the teacher untouched, a finite loss scale."""
    model = on_device(build_rdd(tse=TSE), device)
    for m in model.modules():  # train_step pads the batch to this size
        if hasattr(getattr(m, 'data_preprocessor', None), 'size'):
            m.data_preprocessor.size = (32, 40)
    ref = copy.deepcopy(model)
    wrapper = build_optim_wrapper(model, amp_wrapper_cfg(device, amp_dtype))
    ref_wrapper = build_optim_wrapper(
        ref,
        dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=LR, momentum=0.9)))
    teacher = copy.deepcopy(model.teacher.state_dict())
    student = copy.deepcopy(model.student.state_dict())
    x, samples = batch(n=2, size=(32, 40), seed=4)
    for step, stage in enumerate(('tfe', 'tfe', 'tse', 'tse')):
        logs = []
        for net, opt in ((model, wrapper), (ref, ref_wrapper)):
            net.distiller.set_stage(stage)
            data = dict(inputs=list(x), data_samples=copy.deepcopy(samples))
            logs.append(net.train_step(data, opt))
        got, expected = logs
        assert got.keys() == expected.keys()
        for key, value in expected.items():
            got_value, value = float(got[key].detach()), float(value.detach())
            assert got_value == got_value and abs(got_value) < 1e30, key
            # the total (what the optimizer sees) is compared; its parts
            # under TSE average over selections that rounding moves
            # (test_rdd_losses_under_autocast_match_float32 checks them)
            if key == 'loss':  # each step adds its rounding: twice rtol
                assert got_value == pytest.approx(
                    value, rel=2 * LOSS_RTOL[amp_dtype]), step
            elif key == 'rdd/tse_selected':
                assert abs(got_value - value) <= STAT_ATOL, step
    assert float(got['rdd/stage']) == 1.0
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher[key]), key
    changed = [
        k for k, v in model.student.state_dict().items()
        if v.is_floating_point() and not torch.equal(v, student[k])
    ]
    assert 'decode_head.conv_seg.weight' in changed
    if device.type == 'cuda':
        scale = wrapper.loss_scaler.get_scale()
        assert 0 < float(scale) < float('inf')
