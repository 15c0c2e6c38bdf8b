# Copyright (c) mmrdd contributors. All rights reserved.
"""Value tests of ``mmrdd.functional.difficulty`` against plain references."""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from _oracles import reference_gt_prob, reference_ohem_mask

from mmrdd.functional import (COMBINE_MODES, TFE_DIRECTIONS,
                              combine_hard_masks, gt_class_prob, kth_smallest,
                              ohem_hard_mask, resize_map, selected_mean_weight,
                              tfe_difficulty)

IGNORE = 255
SHAPES = [(1, 3, 1, 1), (2, 4, 3, 5), (3, 19, 8, 6)]


def _logits_label(shape, seed, ignore_frac=0.2, scale=3.0):
    """Seeded random logits (N, C, H, W) and labels (N, H, W) with some
    ignored pixels."""
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = shape
    logits = torch.randn(shape, generator=g) * scale
    label = torch.randint(0, c, (n, h, w), generator=g)
    ignored = torch.rand((n, h, w), generator=g) < ignore_frac
    return logits, label.masked_fill(ignored, IGNORE)


# ----------------------------------------------------------- references ----
def ref_gt_class_prob(logits, label, ignore_index=IGNORE):
    """Explicit loop over pixels, float64."""
    z = logits.double().numpy()
    y = label.numpy()
    n, c, h, w = z.shape
    q = np.ones((n, h, w))
    for i, a, b in itertools.product(range(n), range(h), range(w)):
        if y[i, a, b] == ignore_index:
            continue
        e = np.exp(z[i, :, a, b] - z[i, :, a, b].max())
        q[i, a, b] = e[y[i, a, b]] / e.sum()
    return torch.from_numpy(q)


def ref_ohem_mask(logits, label, thresh, min_kept, ignore_index=IGNORE):
    """The selection of the reference ``OhemCrossEntropy2dTensor`` (full
    sort, float64 softmax), as the boolean map of the pixels it keeps."""
    q = reference_gt_prob(logits.double(), label, ignore_index)
    return reference_ohem_mask(q, label != ignore_index, thresh, min_kept)


def ref_kl(log_p, log_q):
    """sum_c p * (log p - log q) per pixel, explicit loops, float64."""
    lp = log_p.double().numpy()
    lq = log_q.double().numpy()
    n, c, h, w = lp.shape
    out = np.zeros((n, h, w))
    for i, a, b in itertools.product(range(n), range(h), range(w)):
        out[i, a, b] = sum(
            math.exp(lp[i, k, a, b]) * (lp[i, k, a, b] - lq[i, k, a, b])
            for k in range(c))
    return torch.from_numpy(out)


# -------------------------------------------------------- gt_class_prob ----
@pytest.mark.parametrize('shape', SHAPES)
def test_gt_class_prob_matches_loop(shape):
    logits, label = _logits_label(shape, seed=sum(shape))
    q = gt_class_prob(logits, label, ignore_index=IGNORE)
    assert q.dtype == torch.float32
    torch.testing.assert_close(
        q.double(), ref_gt_class_prob(logits, label), rtol=1e-5, atol=1e-6)


def test_gt_class_prob_is_not_max_prob():
    # class 0 is the argmax, but the label is class 2
    logits = torch.tensor([3.0, 1.0, 0.0]).view(1, 3, 1, 1)
    label = torch.tensor([[[2]]])
    q = gt_class_prob(logits, label)
    expected = math.exp(0.0) / (math.exp(3.0) + math.exp(1.0) + 1.0)
    assert q.item() == pytest.approx(expected, rel=1e-6)
    assert q.item() < F.softmax(logits, 1).max().item() - 0.5


def test_gt_class_prob_ignored_is_one_and_custom_ignore_index():
    logits = torch.randn(
        2, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    label = torch.full((2, 3, 3), -1, dtype=torch.long)
    label[0, 0, 0] = 1
    q = gt_class_prob(logits, label, ignore_index=-1)
    assert (q.flatten()[1:] == 1.0).all()
    assert q[0, 0, 0].item() == pytest.approx(
        F.softmax(logits[0, :, 0, 0], 0)[1].item(), rel=1e-6)


def test_gt_class_prob_large_logits_stable():
    logits = torch.tensor([1000.0, 0.0, -1000.0]).view(1, 3, 1, 1)
    q = gt_class_prob(logits, torch.tensor([[[0]]]))
    q1 = gt_class_prob(logits, torch.tensor([[[1]]]))
    assert q.item() == 1.0
    assert q1.item() == 0.0
    assert torch.isfinite(q1).all()


def test_gt_class_prob_bf16():
    logits, label = _logits_label((2, 5, 4, 4), seed=3)
    q = gt_class_prob(logits.bfloat16(), label)
    assert q.dtype == torch.float32
    torch.testing.assert_close(
        q, gt_class_prob(logits, label), rtol=0.05, atol=0.02)


def test_gt_class_prob_bad_shapes():
    with pytest.raises(ValueError, match='label must have shape'):
        gt_class_prob(torch.zeros(2, 3, 4, 4), torch.zeros(3, 4, 5).long())
    with pytest.raises(ValueError, match='label must have shape'):
        gt_class_prob(torch.zeros(2, 3, 4, 4), torch.zeros(2, 4, 4, 1).long())
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        gt_class_prob(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4).long())
    with pytest.raises(ValueError, match='larger than the label map'):
        gt_class_prob(torch.zeros(2, 3, 4, 6), torch.zeros(2, 4, 5).long())


@pytest.mark.parametrize('align_corners', [False, True])
def test_gt_class_prob_resizes_small_logits_per_image(align_corners):
    # teacher logits at 1/4 of a 13x18 label map: q must equal the loop
    # reference on the logits resized for the whole batch at once
    small, _ = _logits_label((3, 5, 4, 5), seed=11)
    _, label = _logits_label((3, 5, 13, 18), seed=12)
    full = F.interpolate(
        small, size=(13, 18), mode='bilinear', align_corners=align_corners)
    q = gt_class_prob(small, label, IGNORE, align_corners=align_corners)
    torch.testing.assert_close(
        q.double(), ref_gt_class_prob(full, label), rtol=1e-5, atol=1e-6)
    other = F.interpolate(
        small, size=(13, 18), mode='bilinear', align_corners=not align_corners)
    assert (ref_gt_class_prob(other, label) - q.double()).abs().max() > 1e-3


def test_gt_class_prob_given_valid_is_used():
    logits, label = _logits_label((2, 4, 3, 3), seed=5)
    valid = label != IGNORE
    q = gt_class_prob(logits, label, IGNORE, valid=valid)
    torch.testing.assert_close(q, gt_class_prob(logits, label, IGNORE))
    valid[0, 0, 0] = False  # the caller's map decides which pixels count
    assert gt_class_prob(logits, label, IGNORE, valid=valid)[0, 0, 0] == 1.0


# --------------------------------------------------------- kth_smallest ----
@pytest.mark.parametrize('use_topk', [None, False, True])
def test_kth_smallest_matches_sort(use_topk):
    g = torch.Generator().manual_seed(7)
    values = torch.rand(1000, generator=g)
    values[::7] = 0.5  # ties
    values[::11] = float('inf')  # invalid pixels as OHEM fills them
    ordered = values.sort().values
    for k in (1, 2, 143, 500, 909, 910, 1000):
        assert kth_smallest(values, k, use_topk).item() == ordered[k - 1]


def test_kth_smallest_bad_arguments():
    with pytest.raises(ValueError, match='1 <= k <= 4'):
        kth_smallest(torch.rand(4), 5)
    with pytest.raises(ValueError, match='1-D'):
        kth_smallest(torch.rand(2, 2), 1)


def test_gt_class_prob_out_of_range_label_raises():
    with pytest.raises(RuntimeError):
        gt_class_prob(torch.zeros(1, 3, 2, 2), torch.full((1, 2, 2), 7))


# ------------------------------------------------------- ohem_hard_mask ----
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('thresh', [0.05, 0.3, 0.7, 0.95])
@pytest.mark.parametrize('min_kept_frac', [0.0, 0.1, 0.5, 1.0, 2.0])
def test_ohem_matches_reference(shape, thresh, min_kept_frac):
    logits, label = _logits_label(shape, seed=7 + sum(shape))
    min_kept = max(1, int(min_kept_frac * label.numel()))
    valid = label != IGNORE
    q = gt_class_prob(logits, label)
    hard = ohem_hard_mask(q, valid, thresh=thresh, min_kept=min_kept)
    assert hard.dtype == torch.bool
    expected = ref_ohem_mask(logits, label, thresh, min_kept)
    assert torch.equal(hard, expected)


def test_ohem_theta_is_max_of_thresh_and_kth():
    q = torch.tensor([0.1, 0.2, 0.3, 0.5, 0.8, 0.9]).view(1, 2, 3)
    valid = torch.ones_like(q, dtype=torch.bool)
    # kth (k=2) = 0.2 < thresh 0.6 -> theta = 0.6: {0.1, 0.2, 0.3, 0.5}
    hard = ohem_hard_mask(q, valid, thresh=0.6, min_kept=2)
    assert hard.flatten().tolist() == [True] * 4 + [False] * 2
    # kth (k=5) = 0.8 > thresh 0.6 -> theta = 0.8: five pixels
    hard = ohem_hard_mask(q, valid, thresh=0.6, min_kept=5)
    assert hard.flatten().tolist() == [True] * 5 + [False]
    # kth (k=1) = 0.1 < thresh 0.15 -> only the thresh decides
    hard = ohem_hard_mask(q, valid, thresh=0.15, min_kept=1)
    assert hard.flatten().tolist() == [True] + [False] * 5


def test_ohem_min_kept_edge_cases():
    q = torch.tensor([0.95, 0.9, 0.99, 0.2, 0.97, 0.98]).view(2, 1, 3)
    valid = torch.tensor([True, True, False, True, True, False]).view(2, 1, 3)
    # min_kept > valid (4): all valid hard
    hard = ohem_hard_mask(q, valid, thresh=0.5, min_kept=5)
    assert torch.equal(hard, valid)
    # min_kept > numel: all valid hard
    assert torch.equal(ohem_hard_mask(q, valid, 0.5, 1000), valid)
    # min_kept == valid: kth is the largest valid q -> all valid hard
    assert torch.equal(ohem_hard_mask(q, valid, 0.5, 4), valid)
    # min_kept == 1: only q <= thresh, or the single hardest if larger
    assert ohem_hard_mask(q, valid, 0.5, 1).flatten().tolist() == [
        False, False, False, True, False, False
    ]
    assert ohem_hard_mask(q, valid, 0.1, 1).flatten().tolist() == [
        False, False, False, True, False, False
    ]
    # min_kept == 2: theta = 0.9 (second smallest valid)
    assert ohem_hard_mask(q, valid, 0.5, 2).flatten().tolist() == [
        False, True, False, True, False, False
    ]
    # ignored pixels are never hard even with small q
    q2 = q.clone()
    q2[0, 0, 2] = 0.0
    assert not ohem_hard_mask(q2, valid, 0.5, 1)[0, 0, 2]


def test_ohem_all_ignored():
    q = torch.rand(2, 3, 4)
    valid = torch.zeros(2, 3, 4, dtype=torch.bool)
    hard = ohem_hard_mask(q, valid, thresh=0.7, min_kept=1)
    assert hard.dtype == torch.bool and not hard.any()
    assert not ohem_hard_mask(q, valid, 0.7, 10**6).any()


def test_ohem_ties_keep_all_equal():
    q = torch.full((1, 2, 2), 0.9)
    valid = torch.ones(1, 2, 2, dtype=torch.bool)
    assert ohem_hard_mask(q, valid, 0.5, 1).all()


def test_ohem_bf16_q():
    q = torch.tensor([0.1, 0.5, 0.8, 0.9]).view(1, 2, 2)
    valid = torch.ones_like(q, dtype=torch.bool)
    hard = ohem_hard_mask(q.bfloat16(), valid, 0.6, 1)
    assert hard.flatten().tolist() == [True, True, False, False]


def test_ohem_shape_and_dtype_checks():
    with pytest.raises(ValueError, match='same shape'):
        ohem_hard_mask(torch.rand(1, 2, 2), torch.ones(1, 2, 3).bool())
    with pytest.raises(ValueError, match='bool'):
        ohem_hard_mask(torch.rand(1, 2, 2), torch.ones(1, 2, 2))


# --------------------------------------------------- combine_hard_masks ----
def test_combine_modes_truth_table():
    s = torch.tensor([False, False, True, True]).view(1, 2, 2)
    t = torch.tensor([False, True, False, True]).view(1, 2, 2)
    table = {
        'xor': [False, True, True, False],
        'or': [False, True, True, True],
        'and': [False, False, False, True],
        'student': [False, False, True, True],
    }
    assert set(table) == set(COMBINE_MODES)
    for mode, expected in table.items():
        out = combine_hard_masks(s, t, mode=mode)
        assert out.dtype == torch.bool
        assert out.flatten().tolist() == expected, mode


def test_combine_default_is_xor_and_symmetric():
    g = torch.Generator().manual_seed(1)
    s = torch.rand(2, 5, 5, generator=g) > 0.5
    t = torch.rand(2, 5, 5, generator=g) > 0.5
    assert torch.equal(combine_hard_masks(s, t), s != t)
    assert torch.equal(combine_hard_masks(s, t), combine_hard_masks(t, s))


def test_combine_student_returns_copy():
    s = torch.tensor([[[True, False]]])
    out = combine_hard_masks(s, ~s, mode='student')
    out[0, 0, 0] = False
    assert s[0, 0, 0]


def test_combine_invalid():
    s = torch.zeros(1, 2, 2, dtype=torch.bool)
    with pytest.raises(ValueError, match='same shape'):
        combine_hard_masks(s, torch.zeros(1, 2, 3, dtype=torch.bool))


# ------------------------------------------------------- tfe_difficulty ----
@pytest.mark.parametrize('shape', SHAPES)
def test_tfe_both_directions_match_reference(shape):
    g = torch.Generator().manual_seed(11 + sum(shape))
    main = torch.randn(shape, generator=g) * 2
    aux = torch.randn(shape, generator=g) * 2
    log_main = F.log_softmax(main.double(), 1)
    log_aux = F.log_softmax(aux.double(), 1)
    w_am = tfe_difficulty(main, aux)  # default: KL(aux || main)
    w_ma = tfe_difficulty(main, aux, direction='main_aux')
    assert w_am.dtype == torch.float32
    torch.testing.assert_close(
        w_am.double(),
        torch.exp(-ref_kl(log_aux, log_main)),
        rtol=1e-5,
        atol=1e-6)
    torch.testing.assert_close(
        w_ma.double(),
        torch.exp(-ref_kl(log_main, log_aux)),
        rtol=1e-5,
        atol=1e-6)
    assert (w_am > 0).all() and (w_am <= 1).all()
    assert (w_ma > 0).all() and (w_ma <= 1).all()
    if shape[1] > 1 and shape[2] * shape[3] > 1:
        # KL is asymmetric: the directions really differ
        assert not torch.allclose(w_am, w_ma, atol=1e-4)


def test_tfe_identical_heads_give_one():
    main = torch.randn(2, 6, 5, 4, generator=torch.Generator().manual_seed(2))
    main = main * 20  # also large logits
    for direction in TFE_DIRECTIONS:
        w = tfe_difficulty(main, main.clone(), direction=direction)
        assert torch.equal(w, torch.ones(2, 5, 4))
    # a constant shift of logits does not change the distribution
    w = tfe_difficulty(main, main + 3.0)
    torch.testing.assert_close(w, torch.ones(2, 5, 4), rtol=0, atol=1e-5)


def test_tfe_hand_value():
    # two classes: P(main) = (0.5, 0.5), P(aux) = softmax(log 3, 0) = (.75,.25)
    main = torch.zeros(1, 2, 1, 1)
    aux = torch.tensor([math.log(3.0), 0.0]).view(1, 2, 1, 1)
    kl_am = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    kl_ma = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert tfe_difficulty(main, aux).item() == pytest.approx(
        math.exp(-kl_am), rel=1e-6)
    assert tfe_difficulty(main, aux, 'main_aux').item() == pytest.approx(
        math.exp(-kl_ma), rel=1e-6)


@pytest.mark.parametrize('align_corners', [False, True])
def test_tfe_resizes_aux_to_main(align_corners):
    g = torch.Generator().manual_seed(5)
    main = torch.randn(2, 3, 8, 6, generator=g)
    aux = torch.randn(2, 3, 4, 3, generator=g)
    aux_up = F.interpolate(
        aux.double(), (8, 6), mode='bilinear', align_corners=align_corners)
    expected = torch.exp(
        -ref_kl(F.log_softmax(aux_up, 1), F.log_softmax(main.double(), 1)))
    w = tfe_difficulty(main, aux, align_corners=align_corners)
    assert w.shape == (2, 8, 6)
    torch.testing.assert_close(w.double(), expected, rtol=1e-5, atol=1e-6)


def test_tfe_bf16_close_to_fp32():
    g = torch.Generator().manual_seed(8)
    main = torch.randn(2, 5, 4, 4, generator=g)
    aux = torch.randn(2, 5, 4, 4, generator=g)
    w32 = tfe_difficulty(main, aux)
    w16 = tfe_difficulty(main.bfloat16(), aux.bfloat16())
    assert w16.dtype == torch.float32 and torch.isfinite(w16).all()
    torch.testing.assert_close(w16, w32, rtol=0.05, atol=0.03)


def test_tfe_invalid():
    x = torch.zeros(1, 3, 2, 2)
    with pytest.raises(ValueError, match='same N and C'):
        tfe_difficulty(x, torch.zeros(1, 4, 2, 2))


# -------------------------------------------------------- resize_map ----
def test_resize_weight_noop_and_values():
    w = torch.tensor([[[0.0, 1.0], [2.0, 3.0]]])
    out = resize_map(w, (2, 2))
    assert torch.equal(out, w)
    up = resize_map(w, torch.Size([3, 3]), align_corners=True)
    expected = torch.tensor([[[0.0, 0.5, 1.0], [1.0, 1.5, 2.0],
                              [2.0, 2.5, 3.0]]])
    torch.testing.assert_close(up, expected)
    # align_corners=False: the 2x2 -> 4x4 top-left is the input corner
    up4 = resize_map(w, (4, 4))
    assert up4[0, 0, 0].item() == 0.0 and up4[0, 3, 3].item() == 3.0
    assert up4[0, 0, 1].item() == pytest.approx(0.25)


def test_resize_weight_dtype_and_checks():
    w = torch.rand(2, 3, 3).half()
    assert resize_map(w, (3, 3)).dtype == torch.float32
    assert resize_map(w, (5, 4)).shape == (2, 5, 4)
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        resize_map(torch.rand(2, 1, 3, 3), (4, 4))


# ------------------------------------------------ selected_mean_weight ----
def mmseg_style_ce(logits,
                   label,
                   weight,
                   loss_class_weight=None,
                   avg_non_ignore=False):
    """MMSeg 1.x ``cross_entropy`` with a per-pixel ``weight``: the
    ``F.cross_entropy(reduction='none')`` loss times ``weight``, averaged
    over all pixels (or the non-ignored ones)."""
    loss = F.cross_entropy(
        logits,
        label,
        weight=loss_class_weight,
        reduction='none',
        ignore_index=IGNORE)
    loss = loss * weight
    if avg_non_ignore:
        return loss.sum() / (label != IGNORE).sum()
    return loss.mean()


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('use_cw', [False, True])
@pytest.mark.parametrize('use_lcw', [False, True])
@pytest.mark.parametrize('avg_non_ignore', [False, True])
def test_selection_weight_end_to_end(shape, use_cw, use_lcw, avg_non_ignore):
    logits, label = _logits_label(shape, seed=23 + sum(shape))
    n, c, h, w = shape
    g = torch.Generator().manual_seed(99)
    valid = label != IGNORE
    mask = valid & (torch.rand(n, h, w, generator=g) < 0.6)
    if not mask.any():
        mask = valid.clone()
    if not mask.any():
        label[0, 0, 0] = 0
        mask[0, 0, 0] = True
    cw = torch.rand(c, generator=g) + 0.5 if use_cw else None
    lcw = torch.rand(c, generator=g) + 0.5 if use_lcw else None
    divisor = int(valid.sum()) if avg_non_ignore else label.numel()
    weight = selected_mean_weight(mask, label, divisor, cw, lcw)
    assert weight.dtype == torch.float32
    got = mmseg_style_ce(logits, label, weight, lcw, avg_non_ignore)

    total_cw = torch.ones(c)
    if cw is not None:
        total_cw = total_cw * cw
    if lcw is not None:
        total_cw = total_cw * lcw
    target = label.masked_fill(~mask, IGNORE)
    expected = nn.CrossEntropyLoss(
        weight=total_cw, ignore_index=IGNORE)(logits, target)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    # explicit formula, also checks the weight is 0 off the mask
    assert (weight[~mask] == 0).all()


def test_selection_weight_hand_values():
    mask = torch.tensor([[[True, False], [True, True]]])
    label = torch.tensor([[[0, IGNORE], [1, 1]]])
    cw = torch.tensor([2.0, 1.0])
    lcw = torch.tensor([1.0, 3.0])
    # denominator = 2*1 + 1*3 + 1*3 = 8, divisor 4
    w = selected_mean_weight(mask, label, 4, cw, lcw)
    expected = torch.tensor([[[2 * 4 / 8, 0.0], [1 * 4 / 8, 1 * 4 / 8]]])
    torch.testing.assert_close(w, expected)
    # 0-d tensor divisor gives the same
    torch.testing.assert_close(
        selected_mean_weight(mask, label, torch.tensor(4), cw, lcw), expected)
    # no class weights: uniform mean over the selection
    torch.testing.assert_close(
        selected_mean_weight(mask, label, 4),
        torch.tensor([[[4 / 3, 0.0], [4 / 3, 4 / 3]]]))


def test_selection_weight_nothing_selected():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(2, 3, 4, 4, generator=g, requires_grad=True)
    label = torch.full((2, 4, 4), IGNORE)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    weight = selected_mean_weight(mask, label, label.numel(), torch.ones(3),
                                  torch.ones(3))
    assert torch.equal(weight, torch.zeros(2, 4, 4))
    loss = mmseg_style_ce(logits, label, weight)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert (logits.grad == 0).all()


def test_selection_weight_end_to_end_all_ignored_pipeline():
    # the full TSE chain on an all-ignored batch: mask empty, weight 0
    g = torch.Generator().manual_seed(6)
    s = torch.randn(2, 4, 3, 3, generator=g, requires_grad=True)
    t = torch.randn(2, 4, 3, 3, generator=g)
    label = torch.full((2, 3, 3), IGNORE)
    valid = label != IGNORE
    hard_s = ohem_hard_mask(gt_class_prob(s.detach(), label), valid, 0.7, 5)
    hard_t = ohem_hard_mask(gt_class_prob(t, label), valid, 0.7, 5)
    for mode in COMBINE_MODES:
        mask = combine_hard_masks(hard_s, hard_t, mode)
        assert not mask.any()
        weight = selected_mean_weight(mask, label, label.numel())
        assert torch.equal(weight, torch.zeros(2, 3, 3))
        loss = mmseg_style_ce(s, label, weight)
        assert loss.item() == 0.0 and not torch.isnan(loss)
        s.grad = None
        loss.backward()
        assert (s.grad == 0).all()


def test_selection_weight_invalid():
    mask = torch.ones(1, 2, 2, dtype=torch.bool)
    label = torch.zeros(1, 2, 2, dtype=torch.long)
    with pytest.raises(ValueError, match='bool'):
        selected_mean_weight(mask.float(), label, 4)
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        selected_mean_weight(mask, label[0], 4)
    with pytest.raises(ValueError, match='1-D'):
        selected_mean_weight(mask, label, 4, class_weight=torch.ones(2, 2))
