# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD's difficulty maps on CUDA against the CPU and float64.

* ``kth_smallest``: CUDA takes ``topk(k, largest=False, sorted=False).max()``
  where the CPU takes ``kthvalue``; both must return the sorted reference's
  k-th value exactly, at the reference batch (4 x 512 x 1024 values,
  ``min_kept`` 100000), with ties and ``+inf`` (ignored pixels) among them.
* OHEM masks, ground-truth class probabilities and TFE weights on CUDA
  against the CPU and a float64 computation.
* Under float16 and bfloat16 autocast: the maps are float32 computations of
  the logits they get, and close to those of float32 logits.

The sizes are the reference's on CUDA; the CPU dry run
(``MMRDD_TEST_CUDA_ON_CPU=1``) runs the same code at 1/8 of the height and
width (:func:`crop`), ``min_kept`` scaled alike.
"""
import pytest
import torch
import torch.nn.functional as F
from _cuda_helpers import MAP_ATOL
from _oracles import reference_ohem_mask

from mmrdd.functional.difficulty import (gt_class_prob, kth_smallest,
                                         ohem_hard_mask, resize_map,
                                         tfe_difficulty)

pytestmark = pytest.mark.cuda

NUM_CLASSES = 19
#: The reference's min_kept per batch of 4 crops of 512 x 1024.
MIN_KEPT = 100000


def crop(device: torch.device) -> tuple:
    """The label size: 512 x 1024 on CUDA, 64 x 128 in the CPU dry run."""
    return (512, 1024) if device.type == 'cuda' else (64, 128)


def min_kept(device: torch.device, n: int = 4) -> int:
    """``MIN_KEPT`` scaled from 4 crops of 512 x 1024 to ``n`` crops."""
    h, w = crop(device)
    return MIN_KEPT * n * h * w // (4 * 512 * 1024)


def values(kind: str, n: int, seed: int) -> torch.Tensor:
    """``n`` seeded values in [0, 1): ``uniform``; ``ties``, 64 distinct
    values; ``inf``, 30% of them ``+inf`` (ignored pixels in OHEM)."""
    g = torch.Generator().manual_seed(seed)
    v = torch.rand(n, generator=g)
    if kind == 'ties':
        v = (v * 64).floor() / 64
    elif kind == 'inf':
        v[torch.rand(n, generator=g) < 0.3] = float('inf')
    return v


@pytest.mark.parametrize('kind', ['uniform', 'ties', 'inf'])
@pytest.mark.parametrize('rank', ['1', 'min_kept', 'n-1', 'n'])
def test_kth_smallest_on_device_is_the_sorted_kth_value(device, kind, rank):
    h, w = crop(device)
    n = 4 * h * w
    k = {'1': 1, 'min_kept': min_kept(device), 'n-1': n - 1, 'n': n}[rank]
    v = values(kind, n, seed=k)
    expected = v.double().sort().values[k - 1].item()
    on_device = v.to(device)
    for use_topk in (None, True, False):
        got = kth_smallest(on_device, k, use_topk=use_topk)
        assert got.device == on_device.device and got.dim() == 0
        assert got.item() == expected, (use_topk, got.item(), expected)


def logits_and_labels(seed: int, size, n: int = 4, scale=3.0):
    """Seeded (n, 19, H/8, W/8) logits and (n, H, W) labels, 10% ignored."""
    g = torch.Generator().manual_seed(seed)
    h, w = size
    logits = scale * torch.randn(n, NUM_CLASSES, h // 8, w // 8, generator=g)
    label = torch.randint(0, NUM_CLASSES, (n, h, w), generator=g)
    label[torch.rand(n, h, w, generator=g) < 0.1] = 255
    return logits, label


def float64_gt_prob(logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """q in float64: resize, log-softmax, gather, exp; 1 where ignored."""
    up = F.interpolate(
        logits.double(),
        size=label.shape[-2:],
        mode='bilinear',
        align_corners=False)
    valid = label != 255
    safe = label.masked_fill(~valid, 0)
    q = F.log_softmax(up, 1).gather(1, safe[:, None])[:, 0].exp()
    return q.masked_fill(~valid, 1.0)


def test_ohem_masks_on_device_match_the_cpu_and_the_full_sort(device):
    """At the reference batch and min_kept: q on the device within 1e-5 of
    float64; the masks from the same q identical on device, CPU and the
    reference's full argsort."""
    logits, label = logits_and_labels(0, crop(device))
    k = min_kept(device)
    valid = label != 255
    q = gt_class_prob(logits.to(device), label.to(device))
    assert q.dtype == torch.float32 and q.device.type == device.type
    q64 = float64_gt_prob(logits, label)
    torch.testing.assert_close(q.cpu().double(), q64, rtol=0, atol=1e-5)
    for thresh in (1e-6, 0.7):
        mask = ohem_hard_mask(q, valid.to(device), thresh, k).cpu()
        mask_cpu = ohem_hard_mask(q.cpu(), valid, thresh, k)
        assert torch.equal(mask, mask_cpu)
        assert torch.equal(mask, reference_ohem_mask(q.cpu(), valid, thresh,
                                                     k))
    # not vacuous: a threshold below every q keeps exactly min_kept
    assert int(ohem_hard_mask(q, valid.to(device), 1e-6, k).sum()) == k


def test_tfe_weight_on_device_matches_float64(device):
    main, label = logits_and_labels(1, crop(device), n=2)
    aux = main + torch.randn(
        main.shape, generator=torch.Generator().manual_seed(2))
    size = label.shape[-2:]
    w = resize_map(tfe_difficulty(main.to(device), aux.to(device)), size)
    lp_a, lp_m = F.log_softmax(aux.double(),
                               1), F.log_softmax(main.double(), 1)
    v = (lp_a.exp() * (lp_a - lp_m)).sum(1).clamp_min(0)
    w64 = F.interpolate(
        torch.exp(-v)[:, None], size, mode='bilinear', align_corners=False)[:,
                                                                            0]
    assert w.dtype == torch.float32
    torch.testing.assert_close(w.cpu().double(), w64, rtol=0, atol=1e-5)
    assert float(w64.min()) < 0.5 < float(w64.max())  # not vacuous


def maps(main: torch.Tensor, aux: torch.Tensor, label: torch.Tensor,
         min_kept: int) -> dict:
    """TFE weight, q and the OHEM mask of one head's logits."""
    valid = label != 255
    q = gt_class_prob(main, label)
    return dict(
        tfe=tfe_difficulty(main, aux),
        q=q,
        mask=ohem_hard_mask(q, valid, 0.7, min_kept))


def test_maps_under_autocast_are_float32_and_close_to_float32(
        device, amp_dtype):
    """A convolution head gives the logits, under autocast (``amp_dtype``)
    and in float32. From the autocast logits the maps are float32 and
    exactly what float32 copies of those logits give outside autocast;
    they differ from the float32 logits' maps by the rounding of
    ``amp_dtype`` only."""
    torch.manual_seed(0)
    h, w = crop(device)
    heads = torch.nn.Conv2d(32, 2 * NUM_CLASSES, 1).to(device)
    x = torch.randn(2, 32, h // 8, w // 8).to(device)
    g = torch.Generator().manual_seed(3)
    label = torch.randint(0, NUM_CLASSES, (2, h, w), generator=g)
    label[torch.rand(label.shape, generator=g) < 0.1] = 255
    label = label.to(device)
    with torch.no_grad():
        heads.weight.mul_(8.0)
        k = min_kept(device, n=2)
        ref = maps(*heads(x).chunk(2, 1), label, k)
        with torch.autocast(device.type, dtype=amp_dtype):
            main, aux = heads(x).chunk(2, 1)
            assert main.dtype == amp_dtype  # not vacuous
            got = maps(main, aux, label, k)
        upcast = maps(main.float(), aux.float(), label, k)
    for key in ('tfe', 'q'):
        assert got[key].dtype == torch.float32, key
        assert torch.equal(got[key], upcast[key]), key
        torch.testing.assert_close(
            got[key], ref[key], rtol=0, atol=MAP_ATOL[amp_dtype], msg=key)
    assert torch.equal(got['mask'], upcast['mask'])
    valid = label != 255
    flipped = (got['mask'] ^ ref['mask']).sum() / valid.sum()
    assert float(flipped) <= 0.02
    assert 0 < float(ref['mask'].sum()) < float(valid.sum())
