# Copyright (c) mmrdd contributors. All rights reserved.
"""Picking scores, top-B selection, batch indexing and T. stddev, against
plain reference computations on seeded tensors."""
import math

import pytest
import torch

from mmrdd.functional.kd_pick import (index_batch, pick_scores, pixel_entropy,
                                      pixel_kl, top_indices)
from mmrdd.functional.kd_stats import mean_entropy, mean_probability, t_stddev


def logits(n=6, c=4, h=3, w=5, seed=0):
    return torch.randn(
        n, c, h, w, generator=torch.Generator().manual_seed(seed)) * 2


def ref_scores(t, s, criterion, tau):
    """Loops over images and pixels, no vectorised helpers."""
    out = []
    for i in range(t.shape[0]):
        total, cells = 0.0, 0
        for y in range(t.shape[2]):
            for x in range(t.shape[3]):
                pt = [math.exp(v / tau) for v in t[i, :, y, x].tolist()]
                zt = sum(pt)
                pt = [v / zt for v in pt]
                if criterion == 'entropy':
                    total += -sum(p * math.log(p) for p in pt)
                else:
                    ps = [math.exp(v / tau) for v in s[i, :, y, x].tolist()]
                    zs = sum(ps)
                    ps = [v / zs for v in ps]
                    total += sum(p * (math.log(p) - math.log(q))
                                 for p, q in zip(pt, ps))
                cells += 1
        out.append(total / cells)
    return torch.tensor(out)


@pytest.mark.parametrize('criterion', ['entropy', 'kl'])
@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_scores_match_a_plain_loop(criterion, tau):
    t, s = logits(seed=1), logits(seed=2)
    got = pick_scores(t, s if criterion == 'kl' else None, criterion, tau)
    torch.testing.assert_close(
        got, ref_scores(t, s, criterion, tau), rtol=1e-5, atol=1e-6)


def test_kl_and_entropy_invariants():
    t = logits(seed=3)
    assert torch.allclose(pixel_kl(t, t), torch.zeros(6, 3, 5), atol=1e-6)
    assert bool((pixel_kl(t, logits(seed=4)) > 0).all())
    flat = torch.zeros(2, 4, 3, 3)
    torch.testing.assert_close(
        pixel_entropy(flat), torch.full((2, 3, 3), math.log(4)))


def test_top_indices_keep_exactly_the_b_best():
    g = torch.Generator().manual_seed(5)
    for _ in range(20):
        scores = torch.rand(12, generator=g)
        keep = top_indices(scores, 4)
        ref = sorted(range(12), key=lambda i: -scores[i].item())[:4]
        assert keep.tolist() == sorted(ref)
        assert scores[keep].min() > scores[[
            i for i in range(12) if i not in ref
        ]].max()


def test_index_batch_walks_records_and_rejects_misaligned_tensors():
    a = torch.arange(6.).view(6, 1)
    b = torch.arange(12.).view(6, 2)
    keep = torch.tensor([1, 4])
    out = index_batch((a, [b, None], {'x': a}), keep, 6)
    assert torch.equal(out[0], a[keep])
    assert torch.equal(out[1][0], b[keep]) and out[1][1] is None
    assert torch.equal(out[2]['x'], a[keep])
    with pytest.raises(ValueError, match='first dimension'):
        index_batch(torch.zeros(3, 2), keep, 6)
    with pytest.raises(ValueError, match='first dimension'):
        index_batch(torch.tensor(1.), keep, 6)


def test_t_stddev_equals_a_plain_computation():
    groups = [logits(n=3, c=5, seed=10 + g) for g in range(4)]
    means = torch.stack([mean_probability(x) for x in groups])
    # plain: softmax per pixel, average over images and pixels per group,
    # unbiased std over groups per class, mean over classes
    ref_means = []
    for x in groups:
        p = torch.exp(x) / torch.exp(x).sum(1, keepdim=True)
        ref_means.append(
            [p[:, c].sum().item() / p[:, c].numel() for c in range(5)])
    stds = []
    for c in range(5):
        col = [m[c] for m in ref_means]
        mu = sum(col) / len(col)
        stds.append(math.sqrt(sum((v - mu)**2 for v in col) / (len(col) - 1)))
    torch.testing.assert_close(means, torch.tensor(ref_means))
    assert t_stddev(means).item() == pytest.approx(sum(stds) / 5, rel=1e-5)
    # identical groups: 0
    assert t_stddev(means[:1].repeat(3, 1)).item() == 0
    x = logits(seed=20)
    assert mean_entropy(x).item() == pytest.approx(
        ref_scores(x, None, 'entropy', 1.0).mean().item(), rel=1e-5)
