# Copyright (c) mmrdd contributors. All rights reserved.
"""seg_cutmix: boxes, exact pixel/label mixing, prob=0, determinism."""
import pytest
import torch

from mmrdd.functional.cutmix import (box_masks, cutmix_boxes, paste_boxes,
                                     seg_cutmix)

N, C, H, W = 6, 3, 20, 28


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(N, C, H, W, generator=g)
    labels = torch.randint(0, 5, (N, H, W), generator=g)
    labels[:, :4, :] = 255  # an ignored band at the top of every sample
    labels[:, :, -3:] = 255  # and padding on the right
    return inputs, labels


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_box_masks():
    boxes = torch.tensor([[2, 3, 5, 7], [0, 0, 0, 0], [0, 0, H, W]])
    masks = box_masks(boxes, (H, W))
    assert masks.shape == (3, H, W) and masks.dtype == torch.bool
    ref = torch.zeros(H, W, dtype=torch.bool)
    ref[2:5, 3:7] = True  # half-open
    assert torch.equal(masks[0], ref)
    assert not masks[1].any() and masks[2].all()


def test_boxes_follow_cutmix():
    boxes, partner = cutmix_boxes(
        1000, (H, W), alpha=1.0, prob=1.0, generator=gen(0))
    y1, x1, y2, x2 = boxes.unbind(1)
    assert ((0 <= y1) & (y1 <= y2) & (y2 <= H)).all()
    assert ((0 <= x1) & (x1 <= x2) & (x2 <= W)).all()
    # partners: one cycle, nobody is their own partner
    assert sorted(partner.tolist()) == list(range(1000))
    assert (partner != torch.arange(1000)).all()
    seen, i = set(), 0
    while i not in seen:
        seen.add(i)
        i = int(partner[i])
    assert len(seen) == 1000
    # area ratio ~ 1 - lam, lam ~ U(0, 1) for alpha=1, less border clipping
    area = ((y2 - y1) * (x2 - x1)).float() / (H * W)
    assert 0.15 < area.mean() < 0.5


def test_mixing_is_exact():
    inputs, labels = batch()
    out = seg_cutmix(inputs, labels, alpha=1.0, prob=1.0, generator=gen(3))
    assert out.inputs.shape == inputs.shape
    assert out.labels.shape == labels.shape
    assert out.labels.dtype == labels.dtype
    assert out.masks.any()
    for i in range(N):
        m, j = out.masks[i], int(out.partner[i])
        assert j != i
        # inside the box: the partner's pixels and labels
        assert torch.equal(out.inputs[i][:, m], inputs[j][:, m])
        assert torch.equal(out.labels[i][m], labels[j][m])
        # outside: unchanged
        assert torch.equal(out.inputs[i][:, ~m], inputs[i][:, ~m])
        assert torch.equal(out.labels[i][~m], labels[i][~m])
    # the input batch itself is untouched
    inputs2, labels2 = batch()
    assert torch.equal(inputs, inputs2) and torch.equal(labels, labels2)


def test_ignore_travels_with_its_pixels():
    inputs, labels = batch()
    labels[1] = 255  # sample 1 entirely ignored
    out = seg_cutmix(inputs, labels, prob=1.0, generator=gen(5))
    for i in range(N):
        m, j = out.masks[i], int(out.partner[i])
        ignored_here = out.labels[i] == 255
        expected = torch.where(m, labels[j] == 255, labels[i] == 255)
        assert torch.equal(ignored_here, expected)
        if j == 1:
            assert (out.labels[i][m] == 255).all()
        if i == 1:
            # only the pasted box can become valid
            assert (out.labels[1][~m] == 255).all()


def test_label_layouts():
    inputs, labels = batch()
    a = seg_cutmix(inputs, labels, generator=gen(1))
    b = seg_cutmix(inputs, labels[:, None], generator=gen(1))
    assert b.labels.shape == (N, 1, H, W)
    assert torch.equal(a.labels, b.labels[:, 0])
    with pytest.raises(ValueError):
        seg_cutmix(inputs, labels[:, :-1], generator=gen(1))
    with pytest.raises(ValueError):
        paste_boxes(labels, a.masks[:-1], a.partner[:-1])


def test_prob_zero_is_identity():
    inputs, labels = batch()
    out = seg_cutmix(inputs, labels, prob=0.0, generator=gen(0))
    assert not out.masks.any()
    assert torch.equal(out.inputs, inputs)
    assert torch.equal(out.labels, labels)


def test_prob_mixes_that_share():
    boxes, _ = cutmix_boxes(4000, (H, W), prob=0.3, generator=gen(0))
    mixed = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    assert 0.25 < mixed.float().mean() < 0.35


def test_batch_of_one_is_not_mixed():
    inputs, labels = batch()
    out = seg_cutmix(inputs[:1], labels[:1], prob=1.0, generator=gen(0))
    assert torch.equal(out.inputs, inputs[:1])
    assert torch.equal(out.labels, labels[:1])


def test_deterministic_under_seed():
    inputs, labels = batch()
    a = seg_cutmix(inputs, labels, prob=0.7, generator=gen(11))
    b = seg_cutmix(inputs, labels, prob=0.7, generator=gen(11))
    c = seg_cutmix(inputs, labels, prob=0.7, generator=gen(12))
    for x, y in zip(a, b):
        assert torch.equal(x, y)
    assert not torch.equal(a.masks, c.masks)
    # the global RNG path is reproducible with torch.manual_seed
    torch.manual_seed(7)
    d = seg_cutmix(inputs, labels, prob=0.7)
    torch.manual_seed(7)
    e = seg_cutmix(inputs, labels, prob=0.7)
    assert torch.equal(d.masks, e.masks) and torch.equal(d.inputs, e.inputs)


def test_bad_arguments():
    with pytest.raises(ValueError):
        cutmix_boxes(4, (H, W), alpha=0.0)
    with pytest.raises(ValueError):
        cutmix_boxes(4, (H, W), prob=1.5)
