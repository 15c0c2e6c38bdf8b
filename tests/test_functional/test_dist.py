# Copyright (c) mmrdd contributors. All rights reserved.
"""Value tests of ``mmrdd.functional.dist`` against a plain reference."""
import numpy as np
import pytest
import torch

from mmrdd.functional import seg_dist_loss


def _pearson(a, b):
    a, b = a - a.mean(), b - b.mean()
    return (a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-8)


def ref_dist(s, t, beta=1.0, gamma=1.0, tau=1.0):
    """Per pixel and per class Pearson correlations by explicit loops."""

    def probs(x):
        x = x.double().numpy() / tau
        e = np.exp(x - x.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        return p.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])

    ps, pt = probs(s), probs(t)
    inter = 1 - np.mean([_pearson(ps[i], pt[i]) for i in range(len(ps))])
    intra = 1 - np.mean(
        [_pearson(ps[:, c], pt[:, c]) for c in range(ps.shape[1])])
    return tau**2 * (beta * inter + gamma * intra)


@pytest.mark.parametrize('beta,gamma,tau', [(1, 1, 1), (2, 0.5, 1), (1, 1, 4)])
def test_seg_dist_matches_reference(beta, gamma, tau):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(2, 5, 3, 4, generator=g) * 2
    t = torch.randn(2, 5, 3, 4, generator=g) * 2
    got = seg_dist_loss(s, t, beta, gamma, tau).item()
    assert got > 0
    assert got == pytest.approx(ref_dist(s, t, beta, gamma, tau), rel=1e-5)


def test_identical_logits_give_zero_and_no_teacher_grad():
    g = torch.Generator().manual_seed(1)
    t = torch.randn(2, 4, 3, 3, generator=g, requires_grad=True)
    assert seg_dist_loss(t.detach(), t).item() == pytest.approx(0, abs=1e-6)
    s = torch.randn(2, 4, 3, 3, generator=g, requires_grad=True)
    seg_dist_loss(s, t).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
