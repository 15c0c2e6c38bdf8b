# Copyright (c) mmrdd contributors. All rights reserved.
"""KT's pure functions against the plain oracle of tests/_afdcd_kt.py (the
official ``train_KT.py`` loops re-stated), values and gradients."""
import pytest
import torch
import torch.nn as nn
from _afdcd_kt import (cwd, kt_logit_loss, kt_tailor, kt_tailor_logits,
                       kt_triplet)

from mmrdd.functional import (class_masks, logit_tailoring_kd,
                              row_triplet_margin, tailor_features,
                              tailor_logits)


def _randn(*shape, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def _labels(n, h, w, num_classes, seed=0, ignore=255):
    """Random labels with ignored pixels; the last class absent from the
    first image."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (n, h, w), generator=g)
    labels[0][labels[0] == num_classes - 1] = 0
    return labels.masked_fill(torch.rand(n, h, w, generator=g) < 0.1, ignore)


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize('guide_ch,source_ch', [(512, 128), (128, 512)])
def test_tailor_features_equals_the_per_image_loop(guide_ch, source_ch):
    """Decode-head widths of the Cityscapes configs: MMSeg's R101 teacher
    512, R18 student 128, both ways round (before / after the tuning
    point)."""
    guide = _randn(2, guide_ch, 8, 16, seed=1).relu()
    source = _randn(2, source_ch, 8, 16, seed=2).relu().requires_grad_()
    high, low = tailor_features(guide, source)
    ref_high, ref_low = kt_tailor(guide, source)
    assert high.shape == (2, guide_ch, 8, 16)
    assert _rel(high, ref_high) < 1e-12 and _rel(low, ref_low) < 1e-12
    weights = _randn(2, guide_ch, 8, 16, seed=3)
    g, = torch.autograd.grad(((high + 2 * low) * weights).sum(), source)
    g_ref, = torch.autograd.grad(((ref_high + 2 * ref_low) * weights).sum(),
                                 source)
    assert _rel(g, g_ref) < 1e-12


def test_row_triplet_is_pytorchs_triplet_loss_on_maps():
    a, p, n = (_randn(2, 3, 4, 5, seed=s) for s in (4, 5, 6))
    official = nn.TripletMarginLoss(margin=1.0, p=2, eps=1e-7)(a, p, n)
    assert row_triplet_margin(a, p, n).item() == pytest.approx(
        official.item(), rel=1e-12)
    assert row_triplet_margin(a, p, n).item() == pytest.approx(
        kt_triplet(a, p, n).item(), rel=1e-12)
    # the distance is over the last axis: permuting rows changes nothing,
    # permuting the last axis of the anchor alone does
    perm = torch.randperm(3)
    assert row_triplet_margin(a[:, perm], p[:, perm],
                              n[:, perm]).item() == pytest.approx(
                                  row_triplet_margin(a, p, n).item())
    assert row_triplet_margin(a.flip(-1), p, n).item() != pytest.approx(
        row_triplet_margin(a, p, n).item())


def test_class_masks_leave_ignored_pixels_out():
    labels = torch.tensor([[[0, 2], [255, 1]]])
    masks = class_masks(labels, 3)
    assert masks.shape == (1, 3, 2, 2)
    assert masks.sum(1).tolist() == [[[1, 1], [0, 1]]]
    assert masks[0, 2].tolist() == [[False, True], [False, False]]


def test_tailor_logits_equals_the_official_loop():
    """19 classes at label size, ignored pixels, a class with no pixels in
    one image and a class with no positive logit in its region."""
    x = _randn(2, 19, 16, 32, seed=7, scale=3).requires_grad_()
    labels = _labels(2, 16, 32, 19, seed=8)
    with torch.no_grad():
        x[1, 3][labels[1] == 3] = -x[1, 3][labels[1] == 3].abs() - 0.1
    masks = class_masks(labels, 19)
    cls, non = tailor_logits(x, masks)
    ref_cls, ref_non = kt_tailor_logits(x, labels, 19, 255)
    assert torch.isfinite(cls).all() and torch.isfinite(non).all()
    assert _rel(cls, ref_cls) < 1e-12 and _rel(non, ref_non) < 1e-12
    weights = _randn(2, 19, 16, 32, seed=9)
    g, = torch.autograd.grad(((cls + 3 * non) * weights).sum(), x)
    g_ref, = torch.autograd.grad(((ref_cls + 3 * ref_non) * weights).sum(), x)
    assert torch.isfinite(g).all()
    assert _rel(g, g_ref) < 1e-12
    # inside its region a class's map is raised to at least its positive
    # mean; outside it is capped at the map's mean
    inside = masks[0, 0]
    vals = (x[0, 0] * inside)[inside & (x[0, 0] > 0)]
    assert cls[0, 0][inside].min().item() >= vals.mean().item() - 1e-12


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_logit_tailoring_kd_equals_the_oracle(dtype):
    """19 classes, 1/8 logits resized to the labels by nearest neighbour,
    temperature 4."""
    s = _randn(2, 19, 8, 16, seed=10, scale=3).to(dtype).requires_grad_()
    t = _randn(2, 19, 8, 16, seed=11, scale=3).to(dtype)
    labels = _labels(2, 64, 128, 19, seed=12)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    ours = logit_tailoring_kd(s, t, labels, tau=4.0)
    assert ours.dtype == dtype
    ref = kt_logit_loss(s, t, labels, 4.0, 255)
    assert ours.item() == pytest.approx(ref.item(), rel=tol)
    g, = torch.autograd.grad(ours, s)
    g_ref, = torch.autograd.grad(ref, s)
    assert _rel(g.double(), g_ref) < tol
    # with the student equal to the teacher only the first term is left:
    # the untailored student against the tailored teacher
    t_up = torch.nn.functional.interpolate(t, (64, 128), mode='nearest')
    cls, non = kt_tailor_logits(t_up, labels, 19, 255)
    assert logit_tailoring_kd(t, t, labels).item() == pytest.approx(
        cwd(t_up, cls + non, 4.0).item(), rel=1e-5)
