# Copyright (c) mmrdd contributors. All rights reserved.
"""CIRKD's memory loss, flip-TFE and a pair of mixed logit sizes on CUDA,
against the CPU (and CIRKD under autocast against float32)."""
import copy

import pytest
import torch
from _cuda_helpers import assert_losses_close, build_rdd, on_device, rdd_losses
from _toy_models import segmentor_cfg, stride4_segmentor_cfg
from mmrazor.registry import MODELS

pytestmark = pytest.mark.cuda

#: CIRKD at a small size that still exercises every kernel: 3 classes,
#: 16-channel features of 2 x 8 x 10 pixels; the pixel memory takes every
#: pixel of a class (80 per image at most) and the contrast set is the
#: whole memory (381 // 3 + 1 = 128 entries per class), so neither
#: device's random draws change what is stored or compared.
CIRKD = dict(
    type='CIRKDMemoryLoss',
    num_classes=3,
    feat_channels=16,
    memory_size=128,
    contrast_size=381,
    pixels_per_class=80,
    tau=0.1,
    kd_tau=1.0)


def cirkd_inputs(seed: int):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(2, 16, 8, 10, generator=g)
    t = s + 0.5 * torch.randn(2, 16, 8, 10, generator=g)
    labels = torch.randint(0, 3, (2, 32, 40), generator=g)
    labels[torch.rand(2, 32, 40, generator=g) < 0.1] = 255
    return s, t, labels


def assert_same_rows(a: torch.Tensor, b: torch.Tensor, atol: float) -> None:
    """Every row of the (M, D) ``a`` is within ``atol`` (max norm) of a row
    of ``b`` and vice versa: the same entries, in any order."""
    a, b = a.detach().cpu().double(), b.detach().cpu().double()
    dist = (a[:, None] - b[None]).abs().amax(-1)
    assert float(dist.amin(1).max()) <= atol
    assert float(dist.amin(0).max()) <= atol


@pytest.mark.parametrize('memory', ['pixel', 'region'])
def test_cirkd_memory_update_and_loss_on_device_match_the_cpu(device, memory):
    """Two steps: the same loss, pointers and memory contents (as sets of
    rows per class: the pixel draw's order is random) on both."""
    torch.manual_seed(0)
    cpu = MODELS.build(dict(CIRKD, memory=memory))
    dev = copy.deepcopy(cpu).to(device)
    before = cpu.queue.clone()
    for seed in (0, 1):
        s, t, labels = cirkd_inputs(seed)
        ref = cpu(s, t, labels)
        got = dev(s.to(device), t.to(device), labels.to(device))
        assert got.dtype == torch.float32
        torch.testing.assert_close(got.cpu(), ref, rtol=1e-4, atol=1e-6)
        assert torch.equal(dev.ptr.cpu(), cpu.ptr)
        for c in range(3):
            assert_same_rows(dev.queue[c], cpu.queue[c], 1e-5)
    assert not torch.equal(cpu.queue, before)  # not vacuous: it was written


def test_cirkd_memory_loss_under_autocast_stays_float32(device, amp_dtype):
    """Under autocast the similarities are computed in ``amp_dtype``; the
    memory stays float32 (the entries of the rounded features), the loss
    float32 and within 1% of the float32 loss."""
    torch.manual_seed(0)
    ref_loss = MODELS.build(dict(CIRKD, memory='pixel'))
    ref_loss = ref_loss.to(device)
    amp_loss = copy.deepcopy(ref_loss)
    s, t, labels = (x.to(device) for x in cirkd_inputs(2))
    ref = ref_loss(s, t, labels)
    with torch.autocast(device.type, dtype=amp_dtype):
        got = amp_loss(s.to(amp_dtype), t.to(amp_dtype), labels)
    assert got.dtype == torch.float32 and torch.isfinite(got)
    assert amp_loss.queue.dtype == torch.float32
    for c in range(3):  # the entries of rounded features
        assert_same_rows(amp_loss.queue[c], ref_loss.queue[c], 2e-2)
    assert float(got) == pytest.approx(float(ref), rel=1e-2)


@pytest.mark.parametrize(
    'name, kwargs, stage',
    [('flip-TFE, a teacher without auxiliary head',
      dict(
          teacher=segmentor_cfg(base=8, aux=False),
          tfe=dict(type='RDDTFEDifficulty', second_view='flip')), 'tfe'),
     ('teacher logits at 1/4, student at 1/8',
      dict(
          teacher=stride4_segmentor_cfg(),
          switch_iter=0,
          tse=dict(type='RDDTSEDifficulty', min_kept=50)), 'tse')])
def test_pairs_on_device_match_the_cpu(device, name, kwargs, stage):
    model = build_rdd(**kwargs)
    copy_on_device = on_device(model, device)
    ref = rdd_losses(model, torch.device('cpu'), stage, seed=11)
    got = rdd_losses(copy_on_device, device, stage, seed=11)
    assert_losses_close(got, ref, rtol=1e-4, atol=1e-5, stat_atol=2 / 2400)
