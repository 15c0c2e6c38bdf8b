# Copyright (c) mmrdd contributors. All rights reserved.
"""What TSE keeps of each class: counts, starved classes and the option
that keeps the pixels hard for both of a starved class."""
import itertools

import pytest
import torch

from mmrdd.functional import (class_pixel_counts, combine_hard_masks,
                              keep_starved_classes, scaled_min_kept,
                              starved_classes)

IGNORE = 255


def seeded(shape=(2, 9, 11), num_classes=5, seed=0):
    """Labels with ignored pixels and three random masks."""
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(0, num_classes, shape, generator=g)
    label[torch.rand(shape, generator=g) < 0.2] = IGNORE
    masks = [torch.rand(shape, generator=g) < p for p in (0.3, 0.5, 0.7)]
    return label, label != IGNORE, masks


def loop_counts(label, valid, masks, num_classes):
    """A plain loop over the pixels."""
    rows = [[0] * num_classes for _ in range(1 + len(masks))]
    for i in range(label.numel()):
        if not valid.flatten()[i]:
            continue
        c = int(label.flatten()[i])
        rows[0][c] += 1
        for r, m in enumerate(masks):
            rows[r + 1][c] += int(m.flatten()[i])
    return torch.tensor(rows)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_class_pixel_counts_match_a_loop(seed):
    label, valid, masks = seeded(seed=seed)
    counts = class_pixel_counts(label, valid, masks, 5)
    assert counts.dtype == torch.int64
    assert torch.equal(counts, loop_counts(label, valid, masks, 5))


def test_class_pixel_counts_by_hand():
    label = torch.tensor([[[0, 1, 2, IGNORE], [1, 1, 2, 0]]])
    mask = torch.tensor([[[1, 0, 1, 1], [0, 1, 0, 0]]], dtype=torch.bool)
    counts = class_pixel_counts(label, label != IGNORE, [mask], 4)
    # the ignored pixel inside the mask is not counted; class 3 is absent
    assert counts.tolist() == [[2, 3, 2, 0], [1, 1, 1, 0]]


def test_class_pixel_counts_checks_shapes():
    label, valid, masks = seeded()
    with pytest.raises(ValueError, match='same shape'):
        class_pixel_counts(label, valid, [masks[0][:1]], 5)


def test_starved_classes_truth_table():
    # class: valid, kept, hard for the student
    rows = [
        (100, 4, 50),  # 4% kept, half hard: starved
        (100, 5, 50),  # 5% kept: not below 5%
        (100, 4, 49),  # 49% hard: predicted well enough
        (99, 0, 99),  # fewer than min_pixels
        (0, 0, 0),  # absent
        (1000, 0, 1000),  # nothing kept, all hard: starved
    ]
    valid, kept, hard = (torch.tensor(r) for r in zip(*rows))
    starved = starved_classes(
        valid,
        kept,
        hard,
        max_kept_share=0.05,
        min_hard_share=0.5,
        min_pixels=100)
    assert starved.tolist() == [True, False, False, False, False, True]
    # without the student condition and the pixel floor: kept share only
    starved = starved_classes(valid, kept, max_kept_share=0.05)
    assert starved.tolist() == [True, False, True, True, False, True]


def test_starved_classes_bad_arguments():
    one = torch.ones(2, dtype=torch.long)
    with pytest.raises(ValueError, match='min_pixels'):
        starved_classes(one, one, min_pixels=0)
    with pytest.raises(ValueError, match='hard_student'):
        starved_classes(one, one, min_hard_share=0.5)


def test_keep_starved_classes_truth_table():
    """Per pixel: (class starved, hard for the student, for the teacher)
    -> kept. Class 1 has the four (hard_s, hard_t) cases once each (XOR
    keeps 2 of 4 = 50%); class 0 has them once each and 21 more pixels
    hard for both (XOR keeps 2 of 25 = 8%)."""
    cases = list(itertools.product([False, True], repeat=2))
    hard_s = [s for s, _ in cases] + [s for s, _ in cases] + [True] * 21
    hard_t = [t for _, t in cases] + [t for _, t in cases] + [True] * 21
    label = [1] * 4 + [0] * 25
    to = lambda x: torch.tensor([[x]])  # noqa: E731
    hard_s, hard_t, label = to(hard_s), to(hard_t), to(label)
    xor = combine_hard_masks(hard_s, hard_t, 'xor')
    # min_class_share 10%: class 0 (8%) is starved, class 1 (50%) not
    out = keep_starved_classes(xor, hard_s, hard_t, label, label != IGNORE, 2,
                               0.1)
    expected = {  # (starved, hard_s, hard_t) -> kept
        (False, False, False): False,
        (False, False, True): True,
        (False, True, False): True,
        (False, True, True): False,  # both hard, class not starved
        (True, False, False): False,
        (True, False, True): True,
        (True, True, False): True,
        (True, True, True): True,  # both hard, class starved: kept
    }
    for i in range(label.numel()):
        key = (int(label[0, 0, i]) == 0, bool(hard_s[0, 0,
                                                     i]), bool(hard_t[0, 0,
                                                                      i]))
        assert bool(out[0, 0, i]) == expected[key], (i, key)
    # 8% is not below 5%: nothing changes
    out = keep_starved_classes(xor, hard_s, hard_t, label, label != IGNORE, 2,
                               0.05)
    assert torch.equal(out, xor)


def test_keep_starved_classes_leaves_ignored_pixels_out():
    label = torch.tensor([[[0, 0, IGNORE]]])
    both = torch.ones(1, 1, 3, dtype=torch.bool)
    xor = torch.zeros(1, 1, 3, dtype=torch.bool)
    out = keep_starved_classes(xor, both, both, label, label != IGNORE, 3, 1.0)
    assert out.tolist() == [[[True, True, False]]]


@pytest.mark.parametrize('seed', [0, 1])
def test_keep_starved_classes_matches_a_loop(seed):
    label, valid, (hard_s, hard_t, _) = seeded(seed=seed)
    xor = (hard_s ^ hard_t) & valid
    share = 0.45
    out = keep_starved_classes(xor, hard_s & valid, hard_t & valid, label,
                               valid, 5, share)
    counts = loop_counts(label, valid, [xor], 5)
    for i in range(label.numel()):
        c = int(label.flatten()[i])
        starved = bool(valid.flatten()[i]) and \
            counts[1][c] < share * counts[0][c]
        both = bool((hard_s & hard_t & valid).flatten()[i])
        assert bool(out.flatten()[i]) == (
            bool(xor.flatten()[i]) or (starved and both))


def test_scaled_min_kept():
    assert scaled_min_kept(4, 512, 1024) == 100000
    assert scaled_min_kept(8, 96, 96) == 3516
    assert scaled_min_kept(1, 4, 4) == 1
