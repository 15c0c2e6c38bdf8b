# Copyright (c) mmrdd contributors. All rights reserved.
"""Value tests of ``mmrdd.functional.distill`` against plain references."""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmrdd.functional import channel_wise_divergence, pixel_kl_divergence

SHAPES = [(1, 2, 1, 1), (2, 4, 3, 5), (3, 19, 6, 4)]
FUNCS = [pixel_kl_divergence, channel_wise_divergence]


def _pair(shape, seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * scale,
            torch.randn(shape, generator=g) * scale)


def _weight(shape, seed):
    n, _, h, w = shape
    return torch.rand((n, h, w), generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------- references ----
def ref_pixel_kl(s, t, tau=1.0, weight=None):
    """Explicit loops, float64: mean over pixels of w * tau^2 * KL(P_T||P_S)
    with softmax over classes."""
    s = s.double().numpy() / tau
    t = t.double().numpy() / tau
    n, c, h, w = s.shape
    wt = np.ones((n, h, w)) if weight is None else weight.double().numpy()
    total = 0.0
    for i, a, b in itertools.product(range(n), range(h), range(w)):
        ps = np.exp(s[i, :, a, b] - s[i, :, a, b].max())
        ps /= ps.sum()
        pt = np.exp(t[i, :, a, b] - t[i, :, a, b].max())
        pt /= pt.sum()
        kl = sum(pt[k] * (math.log(pt[k]) - math.log(ps[k])) for k in range(c))
        total += wt[i, a, b] * kl * tau**2
    return total / (n * h * w)


def ref_cwd(s, t, tau=1.0, weight=None):
    """Explicit loops, float64: CWD as in MMRazor (softmax over H*W per
    channel, sum / (N*C)), each spatial term times weight(p)."""
    s = s.double().numpy() / tau
    t = t.double().numpy() / tau
    n, c, h, w = s.shape
    wt = np.ones((n, h, w)) if weight is None else weight.double().numpy()
    total = 0.0
    for i, k in itertools.product(range(n), range(c)):
        ls = s[i, k] - np.log(np.exp(s[i, k]).sum())
        lt = t[i, k] - np.log(np.exp(t[i, k]).sum())
        total += (wt[i] * np.exp(lt) * (lt - ls)).sum()
    return total * tau**2 / (n * c)


def mmrazor_cwd_formula(preds_S, preds_T, tau=1.0):
    """MMRazor 1.0.0 ``ChannelWiseDivergence.forward`` (loss_weight 1),
    written out."""
    N, C, H, W = preds_S.shape
    softmax_pred_T = F.softmax(preds_T.reshape(-1, W * H) / tau, dim=1)
    logsoftmax = torch.nn.LogSoftmax(dim=1)
    loss = torch.sum(
        softmax_pred_T * logsoftmax(preds_T.reshape(-1, W * H) / tau) -
        softmax_pred_T * logsoftmax(preds_S.reshape(-1, W * H) / tau)) * (
            tau**2)
    return loss / (C * N)


# ------------------------------------------------------ reference values ----
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize(
    'func, ref, tau, seed, weight_seed',
    [(pixel_kl_divergence, ref_pixel_kl, 1.0, 0, 1),
     (pixel_kl_divergence, ref_pixel_kl, 2.5, 0, 1),
     (channel_wise_divergence, ref_cwd, 1.0, 3, 2),
     (channel_wise_divergence, ref_cwd, 4.0, 3, 2)],
    ids=['pixel_kl-1.0', 'pixel_kl-2.5', 'cwd-1.0', 'cwd-4.0'])
def test_matches_loop(func, ref, tau, seed, weight_seed, shape, weighted):
    """Each divergence against its loop reference; ``seed`` and
    ``weight_seed`` offset the seeded inputs of each function."""
    s, t = _pair(shape, seed=seed + sum(shape))
    weight = _weight(shape, weight_seed) if weighted else None
    got = func(s, t, tau=tau, weight=weight)
    assert got.dim() == 0 and got.dtype == torch.float32
    assert got.item() == pytest.approx(
        ref(s, t, tau, weight), rel=1e-5, abs=1e-7)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('tau', [1.0, 3.0])
def test_cwd_equals_mmrazor_formula(shape, tau):
    s, t = _pair(shape, seed=5 + sum(shape))
    assert channel_wise_divergence(
        s, t, tau=tau).item() == pytest.approx(
            mmrazor_cwd_formula(s, t, tau).item(), rel=1e-5, abs=1e-7)


def _mmrazor_cwd_class():
    """MMRazor's ChannelWiseDivergence (``import mmrdd`` first installs the
    compat stand-in that lets ``mmrazor.models`` import on torch >= 2; a
    failing import fails the test)."""
    from mmrazor.models.losses import ChannelWiseDivergence

    import mmrdd  # noqa: F401
    return ChannelWiseDivergence


@pytest.mark.parametrize('tau', [1.0, 2.0])
def test_cwd_equals_mmrazor_class(tau):
    cls = _mmrazor_cwd_class()
    s, t = _pair((2, 5, 4, 3), seed=17)
    ref = cls(tau=tau, loss_weight=1.0)(s, t)
    assert channel_wise_divergence(
        s, t, tau=tau).item() == pytest.approx(
            ref.item(), rel=1e-5)


def test_pixel_kl_is_not_batchmean():
    # MMRazor's KLDivergence(batchmean) on (N, C, H, W) divides by N only:
    # ours is H * W times smaller.
    s, t = _pair((2, 3, 4, 5), seed=9)
    batchmean = F.kl_div(
        F.log_softmax(s, 1),
        F.log_softmax(t, 1),
        reduction='batchmean',
        log_target=True)
    ours = pixel_kl_divergence(s, t)
    assert ours.item() == pytest.approx(batchmean.item() / 20, rel=1e-5)


def test_pixel_kl_hand_value():
    # P_T = (0.75, 0.25), P_S = (0.5, 0.5) at one pixel; other pixel equal
    t = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]]).T.reshape(1, 2, 1, 2)
    s = torch.zeros(1, 2, 1, 2)
    kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert pixel_kl_divergence(s, t).item() == pytest.approx(kl / 2, rel=1e-6)
    w = torch.tensor([[[4.0, 7.0]]])
    assert pixel_kl_divergence(
        s, t, weight=w).item() == pytest.approx(
            4 * kl / 2, rel=1e-6)


# ------------------------------------------------------------ properties ----
@pytest.mark.parametrize('func', FUNCS)
def test_self_divergence_is_zero_and_nonnegative(func):
    s, t = _pair((2, 6, 5, 4), seed=21, scale=10.0)
    assert func(s, s.clone()).item() == pytest.approx(0.0, abs=1e-6)
    # invariant to a constant logit shift (same distributions)
    assert func(s, s + 5.0).item() == pytest.approx(0.0, abs=1e-5)
    for seed in range(5):
        a, b = _pair((2, 6, 5, 4), seed=seed, scale=3.0)
        assert func(a, b).item() > 0
        assert func(a, b, weight=_weight((2, 6, 5, 4), seed)).item() >= 0


@pytest.mark.parametrize('func', FUNCS)
def test_weight_none_ones_zeros(func):
    shape = (2, 4, 3, 3)
    s, t = _pair(shape, seed=31)
    plain = func(s, t)
    assert plain.item() > 0
    assert func(
        s, t, weight=torch.ones(2, 3, 3)).item() == pytest.approx(
            plain.item(), rel=1e-6)
    assert func(s, t, weight=torch.zeros(2, 3, 3)).item() == 0.0
    assert func(s, t, weight=torch.full((2, 3, 3), 2.0)).item() == \
        pytest.approx(2 * plain.item(), rel=1e-6)


@pytest.mark.parametrize('func', FUNCS)
def test_weight_is_local(func):
    # weighting one pixel only gives that pixel's contribution
    shape = (1, 3, 2, 2)
    s, t = _pair(shape, seed=41)
    w = torch.zeros(1, 2, 2)
    w[0, 1, 0] = 1.0
    ref = ref_pixel_kl if func is pixel_kl_divergence else ref_cwd
    assert func(
        s, t, weight=w).item() == pytest.approx(
            ref(s, t, weight=w), rel=1e-5)
    assert func(
        s, t, weight=w).item() != pytest.approx(
            func(s, t).item(), rel=1e-3)


@pytest.mark.parametrize('func', FUNCS)
def test_gradient_flows_to_student_only(func):
    s, t = _pair((2, 4, 3, 3), seed=51)
    s.requires_grad_(True)
    t.requires_grad_(True)
    w = torch.rand(2, 3, 3, requires_grad=True)
    loss = func(s, t, weight=w)
    loss.backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None
    assert w.grad is None


@pytest.mark.parametrize('func', FUNCS)
def test_zero_weight_gives_zero_gradient(func):
    s, t = _pair((2, 4, 3, 3), seed=52)
    s.requires_grad_(True)
    loss = func(s, t, weight=torch.zeros(2, 3, 3))
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(s.grad, torch.zeros_like(s))


def test_pixel_kl_gradient_value():
    # d/dS of the pixel KL is (P_S - P_T) / (N*H*W), softmax over classes
    s, t = _pair((1, 3, 2, 2), seed=53)
    s.requires_grad_(True)
    pixel_kl_divergence(s, t).backward()
    expected = (F.softmax(s.detach(), 1) - F.softmax(t, 1)) / 4
    torch.testing.assert_close(s.grad, expected, rtol=1e-5, atol=1e-7)


def test_cwd_gradient_value():
    # d/dS of CWD is (P_S - P_T) / (N*C), softmax over H*W per channel
    s, t = _pair((2, 3, 2, 2), seed=54)
    s.requires_grad_(True)
    channel_wise_divergence(s, t).backward()
    p_s = F.softmax(s.detach().flatten(2), 2).view_as(s)
    p_t = F.softmax(t.flatten(2), 2).view_as(t)
    torch.testing.assert_close(s.grad, (p_s - p_t) / 6, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('func', FUNCS)
@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_low_precision_inputs(func, dtype):
    shape = (2, 8, 6, 6)
    s, t = _pair(shape, seed=61, scale=4.0)
    w = _weight(shape, 3)
    ref = func(s, t, weight=w)
    got = func(s.to(dtype), t.to(dtype), weight=w.to(dtype))
    assert got.dtype == torch.float32 and torch.isfinite(got)
    assert got.item() == pytest.approx(ref.item(), rel=0.05)


# ------------------------------------------------------------ validation ----
@pytest.mark.parametrize('func', FUNCS)
def test_invalid_args(func):
    s = torch.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match=r'\(2, 3, 4, 4\).*\(2, 3, 4, 5\)'):
        func(s, torch.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match='same shape'):
        func(s, torch.zeros(2, 4, 4, 4))
    with pytest.raises(
            ValueError, match=r'weight must have shape \(2, 4, 4\)'):
        func(s, s, weight=torch.ones(2, 1, 4, 4))
    with pytest.raises(ValueError, match='weight must have shape'):
        func(s, s, weight=torch.ones(2, 4, 3))
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        func(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4))
    # tau is checked once, by the loss modules (tests/test_models/
    # test_losses.py), not again here
