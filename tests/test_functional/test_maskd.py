# Copyright (c) mmrdd contributors. All rights reserved.
"""MasKD's math against the official computation, restated in
``tests/_oracles.py`` (hunto/MasKD ``segmentation/losses/maskd.py`` and
``loss.py`` @ b5af34f), in float64, on the Cityscapes configs' channels
(19-class logits of student and teacher, 8 tokens) with ignored pixels:
values and gradients to 1e-5 relative. Plus the invariants of each piece.
"""
import pytest
import torch
import torch.nn.functional as F
from _oracles import (reference_dice_overlap, reference_maskd_loss,
                      reference_maskd_masks, reference_token_stage_loss)

from mmrdd.functional import (masked_map_kd, mean_valid_cross_entropy,
                              receptive_token_masks, token_dice_overlap,
                              token_masked_map, token_stage_losses)

N, C, T = 2, 19, 8
LOGITS, LABELS = (16, 32), (128, 256)  # the configs' 1/8, smaller crops


def _randn(*shape, seed, scale=1.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g) * scale).to(dtype)


def _labels(seed=7, ignore=255, share=0.1):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, C, (N, *LABELS), generator=g)
    labels[torch.rand(N, *LABELS, generator=g) < share] = ignore
    return labels


def _close(ours, ref, rel=1e-5):
    """Equal to ``rel`` of the reference's largest entry."""
    scale = ref.detach().abs().max().item()
    diff = (ours.detach().double() - ref.detach().double()).abs().max()
    assert diff.item() <= rel * scale, (diff.item(), scale)


def test_masks_equal_the_official_forward_mask():
    feat = _randn(N, C, *LOGITS, seed=1, scale=2.0, dtype=torch.float64)
    tokens = _randn(T, C, seed=2, scale=0.3, dtype=torch.float64)
    masks = receptive_token_masks(feat, tokens)
    assert masks.shape == (N, T, *LOGITS)
    _close(masks, reference_maskd_masks(feat, tokens))
    assert masks.std() > 0.1  # masks far from the constant 0.5
    assert 0 < masks.min() and masks.max() < 1
    # a zero token looks at nothing in particular: 0.5 everywhere
    zero = torch.zeros(1, C, dtype=torch.float64)
    assert torch.all(receptive_token_masks(feat, zero) == 0.5)


def test_masked_kd_equals_the_official_loss_value_and_gradient():
    s = _randn(N, C, *LOGITS, seed=3, scale=2.0, dtype=torch.float64)
    t = _randn(N, C, *LOGITS, seed=4, scale=2.0, dtype=torch.float64)
    tokens = _randn(T, C, seed=5, scale=0.3, dtype=torch.float64)
    s_ours = s.clone().requires_grad_()
    s_ref = s.clone().requires_grad_()
    t_ours = t.clone().requires_grad_()
    masks = receptive_token_masks(t_ours, tokens)
    ours = masked_map_kd(s_ours, t_ours, masks)
    ref = reference_maskd_loss(s_ref, t, tokens)
    assert ours.dtype == torch.float32
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    ours.backward()
    ref.backward()
    _close(s_ours.grad, s_ref.grad)
    assert t_ours.grad is None  # the teacher's map and masks are constants


def test_masked_kd_is_zero_for_equal_maps_and_grows_with_the_gap():
    t = _randn(N, C, *LOGITS, seed=6)
    masks = receptive_token_masks(t, _randn(T, C, seed=7, scale=0.3))
    assert masked_map_kd(t, t, masks).item() == 0
    near = masked_map_kd(t + 0.1, t, masks).item()
    far = masked_map_kd(t + 1.0, t, masks).item()
    assert 0 < near < far
    # a constant gap g: 0.5 * g^2 * mean_t (sum m^2 / (sum m + eps))
    m = masks.double()
    expected = 0.5 * (m.pow(2).sum((2, 3)) / (m.sum((2, 3)) + 1e-5)).mean()
    assert far == pytest.approx(expected.item(), rel=1e-5)


def test_dice_overlap_equals_the_official_dice_coeff():
    masks = receptive_token_masks(
        _randn(N, C, *LOGITS, seed=8, scale=2.0, dtype=torch.float64),
        _randn(T, C, seed=9, scale=0.3, dtype=torch.float64))
    ours = token_dice_overlap(masks)
    assert ours.item() == pytest.approx(
        reference_dice_overlap(masks).item(), rel=1e-6)


def test_dice_overlap_truth_table():
    a = torch.zeros(1, 2, 4, 4)
    a[0, 0, :2] = 1
    a[0, 1, 2:] = 1
    assert token_dice_overlap(a).item() == 0  # disjoint masks
    b = torch.rand(1, 3, 4, 4) + 0.1
    same = b[:, :1].expand(1, 3, 4, 4)
    assert token_dice_overlap(same).item() == pytest.approx(1.0, abs=1e-6)
    half = torch.stack([a[0, 0], a[0, 0] * 0 + 1]).unsqueeze(0)
    # 2 * 8 / (8 + 16): half of the second mask is the first
    assert token_dice_overlap(half).item() == pytest.approx(2 / 3)


def test_token_stage_losses_equal_the_official_step_and_gradient():
    """Stage 1 with the official align_corners=True and an ignore label:
    the tokens' gradient is the official one."""
    logits = _randn(N, C, *LOGITS, seed=10, scale=2.0, dtype=torch.float64)
    labels = _labels()
    tokens = _randn(T, C, seed=11, scale=0.3, dtype=torch.float64)
    ours_tokens = tokens.clone().requires_grad_()
    ref_tokens = tokens.clone().requires_grad_()
    ce, dice = token_stage_losses(
        logits,
        receptive_token_masks(logits, ours_tokens),
        labels,
        ignore_index=255,
        align_corners=True)
    ref = reference_token_stage_loss(logits, labels, ref_tokens, 255)
    assert (ce + dice).item() == pytest.approx(ref.item(), rel=1e-5)
    (ce + dice).backward()
    ref.backward()
    _close(ours_tokens.grad, ref_tokens.grad)
    assert ours_tokens.grad.abs().sum() > 0


def test_token_masked_map_is_the_sum_over_tokens():
    feat = _randn(N, C, 3, 4, seed=12)
    masks = torch.rand(N, T, 3, 4, generator=torch.Generator().manual_seed(0))
    expected = (feat.unsqueeze(1) * masks.unsqueeze(2)).sum(1)
    assert torch.allclose(token_masked_map(feat, masks), expected, atol=1e-6)


def test_mean_valid_cross_entropy_averages_labelled_pixels_only():
    logits = _randn(N, C, *LOGITS, seed=13)
    labels = _labels(seed=14, share=0.3)
    ours = mean_valid_cross_entropy(logits, labels, 255, align_corners=False)
    up = F.interpolate(logits, LABELS, mode='bilinear', align_corners=False)
    per_pixel = F.cross_entropy(up, labels, ignore_index=255, reduction='none')
    valid = labels != 255
    expected = per_pixel[valid].double().mean()
    assert ours.item() == pytest.approx(expected.item(), rel=1e-5)
    # not the mean over all pixels (MMSeg's avg_non_ignore=False)
    assert ours.item() > per_pixel.double().mean().item() * 1.2


def test_mean_valid_cross_entropy_without_labels_is_zero_not_nan():
    logits = _randn(1, C, 4, 4, seed=15).requires_grad_()
    labels = torch.full((1, 8, 8), 255, dtype=torch.long)
    loss = mean_valid_cross_entropy(logits, labels, 255)
    assert loss.item() == 0
    loss.backward()
    assert torch.all(logits.grad == 0)


def test_autocast_leaves_the_sums_over_pixels_in_float32():
    """Under autocast (``--amp``; bfloat16 on CPU) the products and sums
    over pixels stay float32: the same values as without autocast."""
    s = _randn(N, C, 64, 128, seed=16, scale=4.0)
    t = _randn(N, C, 64, 128, seed=17, scale=4.0)
    tokens = _randn(T, C, seed=18, scale=0.3)

    def run():
        masks = receptive_token_masks(t, tokens)
        return masks, masked_map_kd(s, t, masks), token_dice_overlap(masks)

    plain = run()
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        mixed = run()
    for a, b in zip(plain, mixed):
        assert b.dtype == torch.float32
        assert torch.allclose(a, b, rtol=1e-6, atol=0)
