# Copyright (c) mmrdd contributors. All rights reserved.
"""Value tests of ``mmrdd.functional.cirkd`` against plain references."""
import math

import numpy as np
import pytest
import torch

from mmrdd.functional import (labels_at, memory_contrast_kd, memory_entries,
                              minibatch_pixel_pair_kd, ring_buffer_writes)


def _unit(x, axis):
    return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), 1e-12)


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _kl_rows(s_logits, t_logits, tau):
    """Explicit loop: mean over rows of tau^2 KL(softmax(t) || softmax(s))."""
    total = 0.0
    for a, b in zip(s_logits, t_logits):
        ps, pt = _softmax(a / tau), _softmax(b / tau)
        total += sum(pt[k] * (math.log(pt[k]) - math.log(ps[k]))
                     for k in range(len(pt)))
    return total / len(s_logits) * tau**2


def ref_minibatch(s, t, tau):
    """The official double loop over image pairs, float64 numpy."""
    s = _unit(s.double().numpy(), 1)
    t = _unit(t.double().numpy(), 1)
    n = s.shape[0]
    total = 0.0
    for i in range(n):
        for j in range(n):
            fs_i, fs_j = s[i].reshape(s.shape[1],
                                      -1), s[j].reshape(s.shape[1], -1)
            ft_i, ft_j = t[i].reshape(t.shape[1],
                                      -1), t[j].reshape(t.shape[1], -1)
            # the official code: KL of softmax(A / tau), no tau^2 factor
            total += _kl_rows(fs_i.T @ fs_j / tau, ft_i.T @ ft_j / tau, 1.0)
    return total / (n * n)


@pytest.mark.parametrize('tau', [0.1, 0.5])
def test_minibatch_pixel_pair_matches_the_double_loop(tau):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(3, 5, 2, 3, generator=g)
    t = torch.randn(3, 7, 2, 3, generator=g)  # other channel number
    got = minibatch_pixel_pair_kd(s, t, tau).item()
    assert got > 0
    assert got == pytest.approx(ref_minibatch(s, t, tau), rel=1e-4)


def test_minibatch_identical_relations_give_zero_and_teacher_no_grad():
    g = torch.Generator().manual_seed(1)
    t = torch.randn(2, 4, 3, 3, generator=g, requires_grad=True)
    # a positive rescaling per pixel leaves the normalised features unchanged
    s = (t.detach() * torch.rand(2, 1, 3, 3, generator=g).add(0.5))
    s.requires_grad_(True)
    loss = minibatch_pixel_pair_kd(s, t, 0.1)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    other = torch.randn(2, 4, 3, 3, generator=g, requires_grad=True)
    minibatch_pixel_pair_kd(other, t, 0.1).backward()
    assert other.grad is not None and other.grad.abs().sum() > 0
    assert t.grad is None


def test_memory_contrast_matches_the_explicit_loop():
    g = torch.Generator().manual_seed(2)
    a_s = torch.nn.functional.normalize(torch.randn(6, 4, generator=g), dim=1)
    a_t = torch.nn.functional.normalize(torch.randn(6, 4, generator=g), dim=1)
    x = torch.nn.functional.normalize(torch.randn(9, 4, generator=g), dim=1)
    for tau, kd_tau in ((0.1, 1.0), (0.5, 2.0)):
        got = memory_contrast_kd(a_s, a_t, x, tau, kd_tau).item()
        s_log = a_s.double().numpy() @ x.double().numpy().T / tau
        t_log = a_t.double().numpy() @ x.double().numpy().T / tau
        assert got == pytest.approx(_kl_rows(s_log, t_log, kd_tau), rel=1e-4)
    assert memory_contrast_kd(a_t, a_t, x).item() == pytest.approx(
        0.0, abs=1e-6)


def test_labels_at_is_nearest_neighbour():
    lab = torch.arange(16).view(1, 4, 4)
    assert labels_at(lab, (2, 2)).tolist() == [[[0, 2], [8, 10]]]
    assert labels_at(lab, (4, 4)) is not None
    assert torch.equal(labels_at(lab, (4, 4)), lab)


def test_memory_entries_region_means_and_pixel_subsets():
    g = torch.Generator().manual_seed(3)
    feat = torch.nn.functional.normalize(
        torch.randn(2, 3, 4, 4, generator=g), dim=1)
    lab = torch.tensor([[[0, 0, 1, 1]] * 4,
                        [[2, 2, 255, 255]] * 2 + [[0, 255, 255, 255]] * 2])
    region, pixel, count = memory_entries(
        feat, lab, num_classes=3, pixels_per_class=5, generator=g)
    assert count.tolist() == [[5, 5, 0], [2, 0, 4]]
    f = feat.numpy()
    for n in range(2):
        for c in range(3):
            where = np.argwhere(lab[n].numpy() == c)
            if len(where) == 0:
                continue
            vecs = np.stack([f[n, :, i, j] for i, j in where])
            mean = vecs.mean(0)
            np.testing.assert_allclose(
                region[n, c].numpy(),
                mean / np.linalg.norm(mean),
                rtol=1e-5,
                atol=1e-6)
            k = int(count[n, c])
            got = pixel[n, c, :k].numpy()
            # distinct pixels of class c, each a unit vector
            for row in got:
                assert np.abs(vecs - row).max(1).min() < 1e-6
            assert len({tuple(np.round(r, 5)) for r in got}) == k


def test_ring_buffer_writes_replays_the_sequential_enqueue():
    """Truth table against a literal replay of the reference's loop."""
    rng = np.random.RandomState(0)
    for mode, width in (('region', 1), ('pixel', 3)):
        for _ in range(20):
            n, c, size = 4, 3, 5
            counts = rng.randint(0, width + 1, size=(n, c)).tolist()
            ptr = rng.randint(0, size, size=c).tolist()
            src, tgt, new_ptr = ring_buffer_writes(counts, ptr, size, mode,
                                                   width)
            # replay
            slots = {}
            p = list(ptr)
            for i in range(n):
                for k in range(c):
                    m = counts[i][k]
                    if m == 0:
                        continue
                    if mode == 'region':
                        slots[k * size + p[k]] = i * c + k
                        p[k] = (p[k] + 1) % size
                    elif p[k] + m >= size:
                        for j in range(m):
                            slots[k * size + size - m + j] = (i * c + k) * \
                                width + j
                        p[k] = 0
                    else:
                        for j in range(m):
                            slots[k * size + p[k] + j] = (i * c + k) * \
                                width + j
                        p[k] += m
            assert dict(zip(tgt, src)) == slots
            assert len(set(tgt)) == len(tgt)
            assert new_ptr == p
