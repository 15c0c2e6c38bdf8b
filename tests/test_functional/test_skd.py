# Copyright (c) mmrdd contributors. All rights reserved.
"""Value tests of ``mmrdd.functional.skd`` against a plain reference."""
import numpy as np
import pytest
import torch

from mmrdd.functional import pairwise_similarity_kd


def ref_skd(s, t):
    """Explicit 2x2 max pooling (ceil mode), channel-wise L2 normalisation,
    pixel-by-pixel cosine similarities, mean squared difference."""

    def sim(x):
        x = x.double().numpy()
        n, c, h, w = x.shape
        ph, pw = -(-h // 2), -(-w // 2)
        out = np.zeros((n, ph * pw, ph * pw))
        for i in range(n):
            vecs = []
            for a in range(ph):
                for b in range(pw):
                    v = x[i, :, 2 * a:2 * a + 2, 2 * b:2 * b + 2].max((1, 2))
                    vecs.append(v / np.linalg.norm(v))
            for p, u in enumerate(vecs):
                for q, v in enumerate(vecs):
                    out[i, p, q] = u @ v
        return out

    return float(((sim(s) - sim(t))**2).mean())


@pytest.mark.parametrize('size', [(4, 4), (5, 3)])
def test_pairwise_similarity_matches_reference(size):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(2, 3, *size, generator=g)
    t = torch.randn(2, 5, *size, generator=g)
    got = pairwise_similarity_kd(s, t).item()
    assert got > 0
    assert got == pytest.approx(ref_skd(s, t), rel=1e-5)


def test_identical_similarities_give_zero_and_no_teacher_grad():
    g = torch.Generator().manual_seed(1)
    t = torch.randn(2, 4, 4, 4, generator=g, requires_grad=True)
    s = (t.detach() * 2.5).requires_grad_(True)  # same directions
    assert pairwise_similarity_kd(s, t).item() == pytest.approx(0, abs=1e-10)
    other = torch.randn(2, 3, 4, 4, generator=g, requires_grad=True)
    pairwise_similarity_kd(other, t).backward()
    assert other.grad.abs().sum() > 0 and t.grad is None
