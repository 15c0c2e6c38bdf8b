# Copyright (c) mmrdd contributors. All rights reserved.
"""Value tests of ``mmrdd.functional.dsd`` against plain references."""
import numpy as np
import pytest
import torch

from mmrdd.functional import (attention_map, category_similarity_kd,
                              pixel_similarity_kd)


def _unit(v):
    return v / max(np.linalg.norm(v), 1e-12)


def ref_psd(fs, ft):
    """The official CriterionPSD, per image and pair, float64 numpy."""

    def att(f):
        f = f.double().numpy()
        return [_unit((f[i]**2).mean(0).ravel()) for i in range(len(f))]

    a_s, a_t = [att(f) for f in fs], [att(f) for f in ft]
    terms = []
    for n in range(len(fs) - 1):
        for m in range(n + 1, len(fs)):
            sq = [(_unit(_unit(a_s[m][i] - a_s[n][i])) -
                   _unit(_unit(a_t[m][i] - a_t[n][i])))**2
                  for i in range(len(a_s[0]))]
            terms.append(np.mean(sq))
    return float(np.mean(terms))


def ref_csd(s, t, tau=4.0):
    """Explicit 2x2 average pooling (ceil mode), softmax over positions,
    C x C Gram matrix, mean squared difference; float64 numpy."""

    def gram(x):
        x = x.double().numpy()
        n, c, h, w = x.shape
        ph, pw = -(-h // 2), -(-w // 2)
        pooled = np.zeros((n, c, ph, pw))
        for a in range(ph):
            for b in range(pw):
                pooled[:, :, a, b] = x[:, :, 2 * a:2 * a + 2,
                                       2 * b:2 * b + 2].mean((2, 3))
        p = pooled.reshape(n, c, -1) / tau
        p = np.exp(p - p.max(2, keepdims=True))
        p /= p.sum(2, keepdims=True)
        return np.einsum('ncp,ndp->ncd', p, p)

    return float(((gram(s) - gram(t))**2).mean())


def _maps(seed, channels, size=(4, 6)):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, c, *size, generator=g) for c in channels]


def test_attention_map_is_unit_norm_mean_of_squares():
    f = _maps(0, [3])[0]
    a = attention_map(f)
    np.testing.assert_allclose(a.norm(dim=1).numpy(), 1.0, rtol=1e-6)
    ref = (f**2).mean(1).flatten(1)
    np.testing.assert_allclose(
        a.numpy(), (ref / ref.norm(dim=1, keepdim=True)).numpy(), rtol=1e-6)


@pytest.mark.parametrize('k', [2, 3])
def test_pixel_similarity_matches_reference(k):
    fs = _maps(1, [3, 5, 4][:k])
    ft = _maps(2, [6, 8, 4][:k])
    got = pixel_similarity_kd(fs, ft).item()
    assert got > 0
    assert got == pytest.approx(ref_psd(fs, ft), rel=1e-5)


def test_pixel_similarity_identical_maps_give_zero_and_no_teacher_grad():
    ft = [f.requires_grad_(True) for f in _maps(3, [3, 4, 5])]
    fs = [f.detach().clone().requires_grad_(True) for f in ft]
    assert pixel_similarity_kd(fs, ft).item() == pytest.approx(0, abs=1e-10)
    other = [f.requires_grad_(True) for f in _maps(4, [3, 4, 5])]
    pixel_similarity_kd(other, ft).backward()
    assert all(o.grad.abs().sum() > 0 for o in other)
    assert all(f.grad is None for f in ft)


@pytest.mark.parametrize('size', [(4, 6), (5, 3)])  # odd: ceil-mode windows
def test_category_similarity_matches_reference(size):
    s, t = _maps(5, [7, 7], size)
    s, t = s * 3, t * 3
    got = category_similarity_kd(s, t).item()
    assert got > 0
    assert got == pytest.approx(ref_csd(s, t), rel=1e-5)
    assert category_similarity_kd(s, s, tau=2.0).item() == 0


def test_category_similarity_gradients_reach_student_only():
    s, t = _maps(6, [5, 5])
    s.requires_grad_(True)
    t.requires_grad_(True)
    category_similarity_kd(s, t).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
