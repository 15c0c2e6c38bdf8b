# Copyright (c) mmrdd contributors. All rights reserved.
"""Value tests of ``mmrdd.functional.ifvd`` against the official loop."""
import pytest
import torch

from mmrdd.functional import intra_class_variation_kd


def ref_ifv(feat, lab, num_classes):
    """The official CriterionIFV, literally: per class, replace the pixels of
    the class by their per-image mean (count + 1e-6), cosine to the centre."""
    f = feat.double()
    mask_all = lab[:, None].double().expand(f.size())
    center = f.clone()
    for c in range(num_classes):
        m = (mask_all == c).double()
        mean = (m * f).sum(-1).sum(-1) / (m.sum(-1).sum(-1) + 1e-6)
        center = (1 - m) * center + m * mean[..., None, None]
    return torch.nn.CosineSimilarity(dim=1)(f, center)


def ref_ifvd(s, t, labels, num_classes):
    size = s.shape[-2:]
    lab = torch.nn.Upsample(
        size, mode='nearest')(labels[:, None].float())[:, 0]
    return float(((ref_ifv(s, lab, num_classes) -
                   ref_ifv(t, lab, num_classes))**2).mean())


def _inputs(seed):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(2, 3, 4, 5, generator=g)
    t = torch.randn(2, 6, 4, 5, generator=g)
    labels = torch.randint(0, 4, (2, 8, 10), generator=g)
    labels[0, :4] = 255  # ignored pixels
    labels[1] = labels[1].clamp_max(2)  # class 3 absent from image 1
    return s, t, labels


def test_ifvd_matches_the_official_loop_with_ignored_pixels():
    s, t, labels = _inputs(0)
    got = intra_class_variation_kd(s, t, labels, num_classes=4).item()
    assert got > 0
    assert got == pytest.approx(ref_ifvd(s, t, labels, 4), rel=1e-5)


def test_ignored_pixels_add_zero_but_count():
    s, t, labels = _inputs(1)
    all_ignored = torch.full_like(labels, 255)
    assert intra_class_variation_kd(s, t, all_ignored, 4).item() == \
        pytest.approx(0, abs=1e-10)


def test_identical_features_give_zero_and_no_teacher_grad():
    s, t, labels = _inputs(2)
    t.requires_grad_(True)
    same = t.detach().clone().requires_grad_(True)
    assert intra_class_variation_kd(same, t, labels, 4).item() == \
        pytest.approx(0, abs=1e-12)
    s.requires_grad_(True)
    intra_class_variation_kd(s, t, labels, 4).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
