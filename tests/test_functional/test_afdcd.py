# Copyright (c) mmrdd contributors. All rights reserved.
"""Af-DCD's pure functions against the plain oracle of tests/_afdcd_kt.py
(the official ``losses/ocmgd.py`` re-stated), values and gradients."""
import pytest
import torch
from _afdcd_kt import afdcd_contrast, afdcd_tokens

from mmrdd.functional import (afdcd_losses, center_keep_mask,
                              check_contrast_sizes, omni_contrastive_loss,
                              patch_group_tokens, random_keep_mask)


def _randn(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


def test_tokens_follow_the_official_order():
    x = _randn(2, 8, 4, 8, seed=1)
    tokens = patch_group_tokens(x, groups=4, patch_size=(2, 2))
    expected = afdcd_tokens(x, 4, (2, 2))
    assert tokens.shape == (2 * 2 * 4, 2 * 2 * 4, 2)
    assert torch.equal(tokens, expected)


@pytest.mark.parametrize('pool', [4, 0])
def test_contrast_equals_the_oracle_at_teacher_width(pool):
    """The DeepLabV3-R101 teacher's 2048 channels in 16 groups, a 16x16
    map: one 4x4 patch of 256 tokens after pooling (without pooling: 8x8
    maps of two images, cut in 16 2x2 patches of 64 tokens each)."""
    patch, size, n = ((4, 4), (16, 16), 1) if pool else ((2, 2), (8, 8), 2)
    p = _randn(n, 2048, *size, seed=2).requires_grad_()
    t = _randn(n, 2048, *size, seed=3).relu()
    ours = omni_contrastive_loss(p, t, 0.07, 16, patch, pool)
    ref = afdcd_contrast(p, t, 0.07, 16, patch, pool)
    assert ours.dtype == torch.float64
    assert ours.item() == pytest.approx(ref.item(), rel=1e-10)
    g_ours, = torch.autograd.grad(ours, p)
    g_ref, = torch.autograd.grad(ref, p)
    assert _rel(g_ours, g_ref) < 1e-10


def test_contrast_is_low_when_student_tokens_match_and_float32_agrees():
    t = _randn(2, 64, 16, 16, seed=4).relu() * 3
    same = omni_contrastive_loss(t, t, 0.07, 16)
    other = omni_contrastive_loss(_randn(2, 64, 16, 16, seed=5), t, 0.07, 16)
    assert same.item() < 0.05 * other.item()
    p32, t32 = _randn(1, 64, 16, 16, seed=6).float(), t[:1].float()
    assert omni_contrastive_loss(p32, t32).dtype == torch.float32
    assert omni_contrastive_loss(p32, t32).item() == pytest.approx(
        afdcd_contrast(p32, t32, 0.07, 16, (4, 4), 4).item(), rel=1e-5)


def test_afdcd_losses_mimicking_is_a_sum_over_the_batch():
    p = _randn(3, 32, 16, 16, seed=7)
    t = _randn(3, 32, 16, 16, seed=8)
    fd, ctr = afdcd_losses(p, t, groups=16)
    assert fd.item() == pytest.approx(((p - t)**2).sum().item() / 3)
    assert ctr.item() == pytest.approx(
        afdcd_contrast(p, t, 0.07, 16, (4, 4), 4).item(), rel=1e-10)


def test_random_mask_is_the_official_draw():
    torch.manual_seed(3)
    u = torch.rand(2, 1, 6, 8)
    official = torch.where(u > 1 - 0.75, 0, 1)
    torch.manual_seed(3)
    ours = random_keep_mask((2, 1, 6, 8), 0.75, torch.device('cpu'))
    assert torch.equal(ours, official.float())
    assert 0 < ours.mean() < 0.5


def test_center_mask_masks_the_middle_third():
    mask = center_keep_mask((1, 1, 6, 9), torch.device('cpu'))[0, 0]
    expected = torch.ones(6, 9)
    expected[2:4, 3:6] = 0
    assert torch.equal(mask, expected)


def test_sizes_that_cannot_be_cut_name_the_fix():
    with pytest.raises(ValueError, match='groups=16'):
        check_contrast_sizes(40, 64, 128, 16, (4, 4), 4)
    with pytest.raises(ValueError, match='pool_size'):
        check_contrast_sizes(64, 12, 12, 16, (4, 4), 4)
    check_contrast_sizes(64, 12, 12, 16, (4, 4), 3)  # the toy setting
    with pytest.raises(ValueError, match='multiple of the patch'):
        omni_contrastive_loss(_randn(1, 32, 20, 20), _randn(1, 32, 20, 20))
