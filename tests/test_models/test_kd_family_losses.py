# Copyright (c) mmrdd contributors. All rights reserved.
"""The segmentation KD family as registered MMRazor losses.

Each loss is built from its config in MMRazor's ``MODELS``, checked against
a plain computation of the reference formula on seeded tensors, at its
minimum for identical teacher and student inputs, and for gradients that
reach the student only. Where MMRazor already has the formula (AT, CWD on
features, FitNet) its loss is checked against the reference instead.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _cirkd import memory_loss_cfg
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401  (registers the losses)


def _randn(*shape, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * scale


def _kl_rows(s_logits, t_logits, tau=1.0):
    """Explicit loop: mean over rows of tau^2 KL(softmax(t) || softmax(s))."""
    total = 0.0
    for a, b in zip(s_logits, t_logits):
        a, b = a / tau, b / tau
        ps = np.exp(a - a.max())
        ps /= ps.sum()
        pt = np.exp(b - b.max())
        pt /= pt.sum()
        total += float((pt * (np.log(pt) - np.log(ps))).sum())
    return total / len(s_logits) * tau**2


def _unit(x, axis):
    return x / np.linalg.norm(x, axis=axis, keepdims=True)


# ------------------------------------------------------- MMRazor losses ----
def test_mmrazor_at_loss_is_the_reference_attention_transfer():
    """RDD's AT + KD uses CriterionAT: mean (a_S - a_T)^2 with
    a = normalize(mean_c f^2); MMRazor's ATLoss is that formula."""
    s, t = _randn(2, 3, 4, 5, seed=1), _randn(2, 8, 4, 5, seed=2)
    loss = MODELS.build(dict(type='ATLoss', loss_weight=10000.))
    a_s = _unit((s.double().numpy()**2).mean(1).reshape(2, -1), 1)
    a_t = _unit((t.double().numpy()**2).mean(1).reshape(2, -1), 1)
    expected = 10000. * ((a_s - a_t)**2).mean()
    assert loss(s, t).item() == pytest.approx(expected, rel=1e-5)
    assert loss(t, t).item() == 0


def test_mmrazor_cwd_is_the_reference_feature_cwd():
    """RDD's CriterionCWD(norm_type='channel', divergence='kl', T=4): per
    channel a softmax over positions of f / T, sum of KL / (N * C) * T^2;
    MMRazor's ChannelWiseDivergence(tau=4) is that formula."""
    s, t = _randn(
        2, 6, 3, 4, seed=3, scale=3), _randn(
            2, 6, 3, 4, seed=4, scale=3)
    loss = MODELS.build(
        dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=1.0))
    ss = s.double().numpy().reshape(12, -1)
    tt = t.double().numpy().reshape(12, -1)
    expected = _kl_rows(ss, tt, 4.0) * 12 / (2 * 6)
    assert loss(s, t).item() == pytest.approx(expected, rel=1e-5)
    assert loss(t, t).item() == pytest.approx(0, abs=1e-6)


def test_mmrazor_l2_loss_is_the_reference_fitnet():
    """RDD's CriterionFitNet: mean (conv(f_S) - f_T)^2 -- MMRazor's L2Loss
    with normalize=False, div_element=True on the connector's output."""
    s, t = _randn(2, 6, 3, 4, seed=5), _randn(2, 6, 3, 4, seed=6)
    loss = MODELS.build(
        dict(
            type='L2Loss', normalize=False, div_element=True, loss_weight=10.))
    expected = 10. * ((s.double() - t.double())**2).mean().item()
    assert loss(s, t).item() == pytest.approx(expected, rel=1e-6)


def test_reference_projection_is_two_mmrazor_connectors():
    """The CIRKD projection (conv1x1-BN-ReLU-conv1x1, no biases) as the
    list form of MMRazor's ``connectors`` (built as an nn.Sequential)."""
    from mmrazor.models import ConfigurableDistiller
    distiller = ConfigurableDistiller(
        connectors=dict(proj=[
            dict(
                type='ConvModuleConnector',
                in_channel=3,
                out_channel=8,
                bias=False,
                norm_cfg=dict(type='BN'),
                act_cfg=dict(type='ReLU')),
            dict(
                type='ConvModuleConnector',
                in_channel=8,
                out_channel=8,
                bias=False,
                norm_cfg=None,
                act_cfg=None)
        ]))
    proj = distiller.connectors['proj']
    convs = [m for m in proj.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.bias)
            for c in convs] == [(3, 8, None), (8, 8, None)]
    x = _randn(2, 3, 4, 4, seed=7)
    ref = convs[1](
        F.relu(F.batch_norm(convs[0](x), None, None, training=True)))
    assert torch.allclose(proj(x), ref, atol=1e-5)


# ---------------------------------------------------------------- DIST ----
def test_seg_dist_equals_mmrazor_dist_on_pixel_rows_only():
    s, t = _randn(
        2, 5, 3, 4, seed=8, scale=2), _randn(
            2, 5, 3, 4, seed=9, scale=2)
    ours = MODELS.build(dict(type='SegDISTLoss', loss_weight=1.0))
    razor = MODELS.build(dict(type='DISTLoss'))
    rows = (lambda x: x.permute(0, 2, 3, 1).reshape(-1, 5))
    assert ours(s, t).item() == pytest.approx(
        razor(rows(s), rows(t)).item(), rel=1e-6)
    # on 4-D logits MMRazor's intra-class term correlates over the batch
    assert abs(ours(s, t).item() - razor(s, t).item()) > 1e-3
    assert ours(t, t).item() == pytest.approx(0, abs=1e-6)


# ---------------------------------------------------------------- CIRKD ----
def _contrast_reference(s, t, labels, memory_after, tau, kd_tau, ignore=255):
    """KL over every valid anchor against the whole memory (the loss is
    invariant to the order of the contrast set)."""
    d = s.shape[1]
    lab = labels.numpy().ravel()
    keep = lab != ignore
    fs = _unit(s.double().numpy().transpose(0, 2, 3, 1).reshape(-1, d), 1)
    ft = _unit(t.double().numpy().transpose(0, 2, 3, 1).reshape(-1, d), 1)
    x = memory_after.reshape(-1, d)
    return _kl_rows(fs[keep] @ x.T / tau, ft[keep] @ x.T / tau, kd_tau)


def _cirkd_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(2, 4, 3, 3, generator=g)
    t = torch.randn(2, 4, 3, 3, generator=g)
    labels = torch.tensor([[[0, 0, 1], [0, 1, 1], [255, 255, 1]],
                           [[2, 2, 2], [0, 255, 2], [0, 0, 0]]])
    return s, t, labels


def test_cirkd_region_memory_value_and_update():
    s, t, labels = _cirkd_inputs()
    loss = MODELS.build(
        memory_loss_cfg(
            memory='region',
            memory_size=4,
            contrast_size=9,
            tau=0.1,
            kd_tau=1.0,
            loss_weight=0.1))  # 9 // 3 + 1 = 4: the whole memory
    before = loss.queue.clone().numpy()
    got = loss(s, t, labels).item()
    # expected memory: class means of the normalised teacher features,
    # image 0 then image 1, from slot 0
    ft = _unit(t.double().numpy(), 1)
    after = before.astype(np.float64).copy()
    slot = [0, 0, 0]
    for n in range(2):
        for c in range(3):
            where = labels[n].numpy() == c
            if where.any():
                mean = ft[n][:, where].mean(1)
                after[c, slot[c]] = mean / np.linalg.norm(mean)
                slot[c] += 1
    np.testing.assert_allclose(loss.queue.numpy(), after, atol=1e-6)
    assert loss.ptr.tolist() == [2, 1, 1]
    expected = 0.1 * _contrast_reference(s, t, labels, after, 0.1, 1.0)
    assert got == pytest.approx(expected, rel=1e-4)


def test_cirkd_pixel_memory_value_with_ignored_pixels():
    s, t, labels = _cirkd_inputs(1)
    loss = MODELS.build(
        memory_loss_cfg(
            memory='pixel',
            memory_size=10,
            contrast_size=27,
            tau=0.2,
            kd_tau=2.0,
            pixels_per_class=8))  # 27 // 3 + 1 = 10
    before = loss.queue.clone().numpy().astype(np.float64)
    got = loss(s, t, labels).item()
    ft = _unit(t.double().numpy(), 1)
    after = before.copy()
    for c in range(3):
        vecs = [ft[n][:, labels[n].numpy() == c].T for n in range(2)]
        vecs = np.concatenate(vecs)  # every pixel of class c (<= 8 each)
        k = len(vecs)
        # the set of enqueued pixels is exactly the class's pixels
        new = loss.queue[c, :k].double().numpy()
        for v in vecs:
            assert np.abs(new - v).max(1).min() < 1e-6
        after[c, :k] = new
        np.testing.assert_allclose(loss.queue[c, k:].numpy(), before[c, k:])
    assert loss.ptr.tolist() == [7, 4, 4]  # pixels per class, 2 images
    expected = _contrast_reference(s, t, labels, after, 0.2, 2.0)
    assert got == pytest.approx(expected, rel=1e-4)


def test_cirkd_pixel_memory_wraps_like_the_reference():
    s, t, labels = _cirkd_inputs(2)
    loss = MODELS.build(
        memory_loss_cfg(
            memory='pixel', memory_size=5, contrast_size=3,
            pixels_per_class=3))
    loss.ptr.fill_(3)
    loss(s, t, labels)
    # per class, image 0 then 1, K = min(count, 3), from pointer 3:
    # class 0: 3 + 3 >= 5 -> last 3 slots, pointer 0; then 0 + 3 -> 3
    # class 1: only image 0 -> wraps to 0; class 2: only image 1 -> 0
    assert loss.ptr.tolist() == [3, 0, 0]


@pytest.mark.parametrize('memory', ['pixel', 'region'])
def test_cirkd_memory_minimum_gradients_and_all_ignored(memory):
    s, t, labels = _cirkd_inputs(3)
    cfg = memory_loss_cfg(
        memory=memory, memory_size=6, contrast_size=6, pixels_per_class=2)
    t.requires_grad_(True)
    loss = MODELS.build(cfg)
    assert loss(t.detach() * 3, t, labels).item() == pytest.approx(0, abs=1e-6)
    s.requires_grad_(True)
    loss(s, t, labels).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
    out = loss(s, t, torch.full_like(labels, 255))
    assert out.item() == 0 and out.requires_grad


def test_cirkd_memory_bad_config_names_the_fix():
    base = memory_loss_cfg()
    with pytest.raises(ValueError, match='memory must be one of'):
        MODELS.build(dict(base, memory='pixels'))
    with pytest.raises(ValueError, match='raise memory_size'):
        MODELS.build(dict(base, memory_size=4, contrast_size=30))
    loss = MODELS.build(base)
    s, t, labels = _cirkd_inputs()
    with pytest.raises(ValueError, match='connector'):
        loss(s, t[:, :2].repeat(1, 3, 1, 1), labels)


def test_cirkd_mini_batch_loss_value_minimum_and_gradients():
    s, t = _randn(2, 3, 2, 3, seed=10), _randn(2, 5, 2, 3, seed=11)
    loss = MODELS.build(
        dict(type='CIRKDMiniBatchLoss', tau=0.1, loss_weight=2.0))
    fs = _unit(s.double().numpy(), 1).reshape(2, 3, -1)
    ft = _unit(t.double().numpy(), 1).reshape(2, 5, -1)
    expected = np.mean([
        _kl_rows(fs[i].T @ fs[j] / 0.1, ft[i].T @ ft[j] / 0.1)
        for i in range(2) for j in range(2)
    ])
    assert loss(s, t).item() == pytest.approx(2.0 * expected, rel=1e-4)
    t.requires_grad_(True)
    assert loss(t.detach(), t).item() == pytest.approx(0, abs=1e-6)
    s.requires_grad_(True)
    loss(s, t).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
    with pytest.raises(ValueError, match='same batch and spatial size'):
        loss(s, t[:, :, :1])


# ------------------------------------------------- DSD, SKD and IFVD ----
def test_dsd_losses_reference_weights_minimum_and_gradients():
    maps_s = [_randn(2, c, 4, 4, seed=20 + c) for c in (5, 3, 5)]
    maps_t = [_randn(2, c, 4, 4, seed=30 + c) for c in (5, 7, 5)]
    psd = MODELS.build(dict(type='DSDPixelSimilarityLoss', loss_weight=1000.))
    csd = MODELS.build(dict(type='DSDCategorySimilarityLoss', loss_weight=10.))
    from mmrdd.functional import category_similarity_kd, pixel_similarity_kd
    kw = dict(zip(['preds_S_0', 'preds_S_1', 'preds_S_2'], maps_s))
    kw.update(zip(['preds_T_0', 'preds_T_1', 'preds_T_2'], maps_t))
    assert psd(**kw).item() == pytest.approx(
        1000. * pixel_similarity_kd(maps_s, maps_t).item(), rel=1e-6)
    assert csd(maps_s[2], maps_t[2]).item() == pytest.approx(
        10. * category_similarity_kd(maps_s[2], maps_t[2]).item(), rel=1e-6)
    same = dict(zip(['preds_S_0', 'preds_S_1', 'preds_S_2'], maps_t))
    same.update(zip(['preds_T_0', 'preds_T_1', 'preds_T_2'], maps_t))
    assert psd(**same).item() == pytest.approx(0, abs=1e-8)
    assert csd(maps_t[2], maps_t[2]).item() == 0
    for m in maps_s + maps_t:
        m.requires_grad_(True)
    (psd(**kw) + csd(maps_s[2], maps_t[2])).backward()
    assert all(m.grad.abs().sum() > 0 for m in maps_s)
    assert all(m.grad is None for m in maps_t)
    with pytest.raises(ValueError, match='preds_S_2 and preds_T_2'):
        psd(maps_s[0], maps_t[0], maps_s[1], maps_t[1], preds_S_2=maps_s[2])


def test_skd_and_ifvd_losses_weights_minimum_and_gradients():
    from mmrdd.functional import (intra_class_variation_kd,
                                  pairwise_similarity_kd)
    s, t = _randn(2, 3, 4, 4, seed=40), _randn(2, 6, 4, 4, seed=41)
    labels = torch.randint(
        0, 3, (2, 8, 8), generator=torch.Generator().manual_seed(0))
    labels[:, :2] = 255
    skd = MODELS.build(dict(type='SKDLoss', loss_weight=10.))
    ifvd = MODELS.build(dict(type='IFVDLoss', num_classes=3, loss_weight=20.))
    assert skd(s, t).item() == pytest.approx(
        10. * pairwise_similarity_kd(s, t).item(), rel=1e-6)
    assert ifvd(s, t, labels).item() == pytest.approx(
        20. * intra_class_variation_kd(s, t, labels, 3).item(), rel=1e-6)
    assert ifvd(s, t, labels[:, None]).item() == pytest.approx(
        ifvd(s, t, labels).item())
    assert skd(t, t).item() == pytest.approx(0, abs=1e-10)
    assert ifvd(t, t, labels).item() == 0
    s.requires_grad_(True)
    t.requires_grad_(True)
    (skd(s, t) + ifvd(s, t, labels)).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None


@pytest.mark.parametrize('cfg,match', [
    (dict(type='CIRKDMiniBatchLoss', tau=0), 'tau must be a positive'),
    (dict(type='DSDCategorySimilarityLoss', pool=0), 'pool must be'),
    (dict(type='SKDLoss', pool=1.5), 'pool must be'),
    (dict(type='IFVDLoss', num_classes=0), 'num_classes must be'),
    (dict(type='SegDISTLoss', tau=-1), 'tau must be'),
])
def test_bad_arguments_are_refused_at_build_time(cfg, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(cfg)


def test_losses_are_finite_on_large_logits():
    s, t = _randn(
        2, 4, 4, 4, seed=50, scale=80), _randn(
            2, 4, 4, 4, seed=51, scale=80)
    for cfg in (dict(type='SegDISTLoss'),
                dict(type='DSDCategorySimilarityLoss'),
                dict(type='CIRKDMiniBatchLoss')):
        assert math.isfinite(MODELS.build(cfg)(s, t).item())


# ------------------------------------------- the pair check (PairKDLoss) ----
@pytest.mark.parametrize('cfg, logits', [
    (dict(type='CIRKDMiniBatchLoss'), False),
    (dict(type='SKDLoss'), False),
    (dict(type='DSDCategorySimilarityLoss'), True),
    (dict(type='SegDISTLoss'), True),
])
def test_pair_losses_check_the_pair_once_and_weight_it(cfg, logits):
    loss = MODELS.build(cfg)
    s, t = _randn(2, 5, 4, 4, seed=1), _randn(2, 5, 4, 4, seed=2)
    weighted = MODELS.build(dict(cfg, loss_weight=3.0))
    assert weighted(s, t).item() == pytest.approx(3.0 * loss(s, t).item())
    other_channels = _randn(2, 7, 4, 4, seed=3)
    if logits:  # logits of other classes: an error
        with pytest.raises(ValueError, match='same shape'):
            loss(s, other_channels)
    else:  # features of other widths: fine
        assert torch.isfinite(loss(s, other_channels))
    for bad in (t[:, :, :2], t[:1]):  # spatial size, batch
        with pytest.raises(ValueError, match='must have the same'):
            loss(s, bad)
    with pytest.raises(ValueError, match=r'expected \(N, C, H, W\)'):
        loss(s[0], t[0])
