# Copyright (c) mmrdd contributors. All rights reserved.
"""What the CUDA tests share: the device they run on, tolerances per
autocast dtype and one RDD step of the toy models on a device, optionally
under autocast.

Each CUDA test compares a CUDA path of mmrdd with its CPU or float64
reference. Where no GPU exists they skip, saying why (``pytest -rs``),
except:

* ``MMRDD_REQUIRE_CUDA=1`` (``tools/misc/gpu_check.sh`` on the GPU
  machine): a missing GPU fails them, so a broken CUDA set-up cannot pass
  as "all skipped";
* ``MMRDD_TEST_CUDA_ON_CPU=1`` (``gpu_check.sh --cpu-dry-run``, in CI):
  they run on the CPU, the "device" side being a CPU copy, so that the
  tests' own code is known to run before GPU minutes are spent on it.
"""
import contextlib
import copy
import os
from typing import Dict, Optional

import pytest
import torch
from _toy_models import batch, rdd_cfg, sharpen
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401

#: Why the CUDA tests skip on a machine without a GPU.
NO_GPU = ('needs a CUDA GPU (torch.cuda.is_available() is False); '
          'tools/misc/gpu_check.sh runs these on a GPU machine '
          '(docs/gpu_check.md)')


def cuda_test_device() -> torch.device:
    """The device the CUDA tests run on, or the skip / failure that says
    why they cannot (see the module docstring)."""
    if torch.cuda.is_available():
        return torch.device('cuda')
    if os.environ.get('MMRDD_REQUIRE_CUDA') == '1':
        pytest.fail('MMRDD_REQUIRE_CUDA=1 but torch.cuda.is_available() is '
                    'False: this torch has no working CUDA here')
    if os.environ.get('MMRDD_TEST_CUDA_ON_CPU') == '1':
        return torch.device('cpu')
    pytest.skip(NO_GPU)


#: Absolute tolerance of a probability or a TFE weight computed from
#: autocast logits, against the same computed from float32 logits: float16
#: keeps 11 significant bits, bfloat16 8 (16x coarser).
MAP_ATOL = {torch.float16: 1e-2, torch.bfloat16: 5e-2}
#: Relative tolerance of the losses of a toy step under autocast against
#: float32 (a few layers compound the rounding; see test_rdd_amp.py).
LOSS_RTOL = {torch.float16: 1e-2, torch.bfloat16: 2e-2}
#: Largest change of a TSE selection share (fraction of valid pixels) under
#: autocast: pixels within rounding of the threshold may flip.
STAT_ATOL = 2e-2


def build_rdd(**kwargs) -> torch.nn.Module:
    """A toy RDD algorithm (CPU, seed 0) whose logits spread q over (0, 1)
    and whose student heads have no dropout (same forward twice).

    Args:
        **kwargs: Arguments of :func:`_toy_models.rdd_cfg`.

    Returns:
        torch.nn.Module: The model, in training mode.
    """
    torch.manual_seed(0)
    model = MODELS.build(rdd_cfg(**kwargs))
    model.train()
    sharpen(model.teacher, 40.0)
    sharpen(model.student, 15.0)
    for m in model.student.modules():
        if isinstance(m, torch.nn.Dropout2d):
            m.p = 0.0
    return model


def rdd_losses(model: torch.nn.Module,
               device: torch.device,
               stage: str,
               seed: int = 2,
               dtype: Optional[torch.dtype] = None) -> Dict[str, torch.Tensor]:
    """The loss dict of one forward of ``model`` at ``stage`` on
    ``batch(seed)`` moved to ``device``, under autocast to ``dtype`` if
    given; values moved to the CPU."""
    model.distiller.set_stage(stage)
    x, samples = batch(n=2, size=(32, 40), seed=seed)
    x = x.to(device)
    samples = [s.to(device) for s in samples]
    ctx = (
        torch.autocast(device.type, dtype=dtype)
        if dtype is not None else contextlib.nullcontext())
    with ctx:
        losses = model.loss(x, samples)
    return {k: v.detach().cpu() for k, v in losses.items()}


def on_device(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """A copy of ``model`` on ``device`` (before its first forward: the
    recorders' tensors of a step cannot be deep-copied)."""
    return copy.deepcopy(model).to(device)


def assert_losses_close(got: Dict[str, torch.Tensor], ref: Dict[str,
                                                                torch.Tensor],
                        rtol: float, atol: float, stat_atol: float) -> None:
    """Same keys; each ``loss`` value float32, finite and close to the
    reference; each statistic (``rdd/...``) within ``stat_atol``."""
    assert got.keys() == ref.keys()
    for key, value in ref.items():
        assert got[key].dtype == torch.float32, key
        assert torch.isfinite(got[key]).all(), key
        if 'loss' in key:
            torch.testing.assert_close(
                got[key], value, rtol=rtol, atol=atol, msg=key)
        elif key.startswith('rdd/'):
            assert abs(float(got[key]) - float(value)) <= stat_atol, (
                key, float(got[key]), float(value))
