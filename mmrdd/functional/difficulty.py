# Copyright (c) mmrdd contributors. All rights reserved.
"""Per-pixel difficulty estimates of Relative Difficulty Distillation.

Pure tensor functions (no registry, no module state) behind the two stages of
RDD (Liang et al., "Relative Difficulty Distillation for Semantic
Segmentation", arXiv 2407.03719):

* TSE-RDD: :func:`gt_class_prob` -> :func:`ohem_hard_mask` (once for the
  student, once for the teacher) -> :func:`combine_hard_masks` (and, an
  option of ours, :func:`keep_starved_classes`) ->
  :func:`selected_mean_weight`; :func:`class_pixel_counts` counts what the
  selection keeps of each class.
* TFE-RDD: :func:`tfe_difficulty` -> :func:`resize_map`.

The arguments of RDD's config (``thresh``, ``min_kept``, ``mode``,
``direction``) are checked once, by the registered classes that take them
from the config (:class:`~mmrdd.models.RDDTSEDifficulty`,
:class:`~mmrdd.models.RDDTFEDifficulty`); these functions check only the
shapes and dtypes of the tensors they are given.

All functions compute in float32, whatever the input dtype, so that logits
produced under bf16 / fp16 autocast are safe. None of them synchronises the
host with the device (no ``.item()``, no branch on tensor data) and none sorts
the whole batch: OHEM selects its threshold with :func:`kth_smallest`.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

#: Valid ``mode`` values of :func:`combine_hard_masks`.
COMBINE_MODES: Tuple[str, ...] = ('xor', 'or', 'and', 'student')

#: Valid ``direction`` values of :func:`tfe_difficulty`.
TFE_DIRECTIONS: Tuple[str, ...] = ('aux_main', 'main_aux')


def _check_logits_label(logits: Tensor, label: Tensor) -> None:
    """Raise ``ValueError`` unless ``logits`` is (N, C, h, w) and ``label``
    is (N, H, W) with ``h <= H`` and ``w <= W``."""
    if logits.dim() != 4:
        raise ValueError('logits must have shape (N, C, H, W), got '
                         f'{tuple(logits.shape)}')
    if label.dim() != 3 or label.shape[0] != logits.shape[0]:
        raise ValueError(f'label must have shape (N, H, W) with N = '
                         f'{logits.shape[0]} to match logits '
                         f'{tuple(logits.shape)}, got {tuple(label.shape)}')
    if any(lo > la for lo, la in zip(logits.shape[2:], label.shape[1:])):
        raise ValueError(f'logits {tuple(logits.shape)} are larger than the '
                         f'label map {tuple(label.shape)}: pass logits at '
                         'the label size or smaller (they are upsampled)')


def _log_prob_of(logits: Tensor, label: Tensor) -> Tensor:
    """``log_softmax(logits)[label]`` per pixel, float32, (N, H, W)."""
    return F.log_softmax(
        logits.float(), dim=1).gather(1, label.unsqueeze(1)).squeeze(1)


def gt_class_prob(logits: Tensor,
                  label: Tensor,
                  ignore_index: int = 255,
                  valid: Optional[Tensor] = None,
                  align_corners: bool = False) -> Tensor:
    """Softmax probability of the ground-truth class at every pixel.

    ``q(p) = softmax(z(p))[y(p)]``, computed as ``exp(log_softmax(z)[y])``
    (the fastest stable form on CPU; no softmax is kept).

    Logits smaller than the label map (e.g. a teacher head's logits at 1/8)
    are first resized bilinearly to the label size, one image at a time, so
    that the full-resolution logits of only one image exist at once (at 4
    crops of 512x1024 and 19 classes: 40 MiB instead of 160 MiB).

    Labels must lie in ``[0, C)`` or equal ``ignore_index``. Ignored pixels
    are gathered at class 0 and then set to 1.0 (they are "easy", as in the
    reference ``OhemCrossEntropy2dTensor``). Other out-of-range labels are not
    clamped: the gather raises on CPU (a device-side assert on CUDA).

    Args:
        logits (Tensor): Logits of shape (N, C, h, w), at the label size or
            smaller.
        label (Tensor): Integer label map of shape (N, H, W).
        ignore_index (int): Label value of pixels without ground truth.
            Defaults to 255.
        valid (Tensor, optional): ``label != ignore_index`` when the caller
            has it already. Defaults to None (computed here).
        align_corners (bool): ``align_corners`` of the resize (that of the
            head that produced ``logits``). Defaults to False.

    Returns:
        Tensor: ``q`` of shape (N, H, W), float32, in ``[0, 1]``; 1.0 at
        ignored pixels.
    """
    _check_logits_label(logits, label)
    label = label.long()
    if valid is None:
        valid = label != ignore_index
    safe_label = label.masked_fill(~valid, 0)
    size = tuple(label.shape[1:])
    if tuple(logits.shape[2:]) == size:
        log_q = _log_prob_of(logits, safe_label)
    else:
        log_q = torch.cat([
            _log_prob_of(
                F.interpolate(
                    logits[i:i + 1].float(),
                    size=size,
                    mode='bilinear',
                    align_corners=align_corners), safe_label[i:i + 1])
            for i in range(logits.shape[0])
        ])
    return log_q.exp().masked_fill(~valid, 1.0)


def kth_smallest(values: Tensor,
                 k: int,
                 use_topk: Optional[bool] = None) -> Tensor:
    """The ``k``-th smallest element (1-based) of a 1-D tensor, in O(n).

    ``torch.kthvalue`` on CPU; on CUDA ``topk(k, largest=False,
    sorted=False).max()``, because CUDA ``kthvalue`` selects within a
    single thread block per slice (20x slower than a full sort on one slice
    of millions of elements, pytorch/pytorch#75599) while CUDA ``topk``
    spreads a large slice over many blocks (pytorch/pytorch#71081).

    Args:
        values (Tensor): 1-D tensor of ``n >= k`` elements.
        k (int): Rank, in ``[1, n]``.
        use_topk (bool, optional): Force the ``topk`` (True) or the
            ``kthvalue`` (False) form. Defaults to None (by device).

    Returns:
        Tensor: 0-d tensor on ``values``' device (no host synchronisation).
    """
    if values.dim() != 1 or not 1 <= k <= values.numel():
        raise ValueError(f'kth_smallest needs a 1-D tensor and 1 <= k <= '
                         f'{values.numel()}, got shape '
                         f'{tuple(values.shape)} and k={k}')
    if values.is_cuda if use_topk is None else use_topk:
        return values.topk(k, largest=False, sorted=False).values.max()
    return values.kthvalue(k).values


def ohem_hard_mask(q: Tensor,
                   valid: Tensor,
                   thresh: float = 0.7,
                   min_kept: int = 100000) -> Tensor:
    """Hard pixels by the OHEM rule of the RDD / CIRKD reference code.

    Over the whole batch (flattened)::

        theta = max(thresh, k-th smallest q over valid pixels),  k = min_kept
        hard  = valid & (q <= theta)

    If the batch has fewer than ``min_kept`` valid pixels, every valid pixel is
    hard (the reference then skips mining); if it has no valid pixel the mask
    is all False. Implemented without a branch on data: invalid pixels are
    filled with ``+inf`` before :func:`kth_smallest`, so a k-th value taken
    beyond the valid pixels is ``inf``.

    Args:
        q (Tensor): Ground-truth class probability of shape (N, H, W), see
            :func:`gt_class_prob`.
        valid (Tensor): Boolean map of pixels with a label, shape (N, H, W).
        thresh (float): Probability threshold, in ``(0, 1)``. Pixels with
            ``q <= thresh`` are always hard. Defaults to 0.7.
        min_kept (int): Minimum number of hard pixels per call (per GPU
            batch). Defaults to 100000.

    Returns:
        Tensor: Boolean hard-pixel mask of shape (N, H, W).
    """
    if tuple(q.shape) != tuple(valid.shape):
        raise ValueError(f'q {tuple(q.shape)} and valid '
                         f'{tuple(valid.shape)} must have the same shape')
    if valid.dtype != torch.bool:
        raise ValueError(f'valid must be a bool tensor, got {valid.dtype}')
    if q.numel() == 0:
        return valid.clone()
    q = q.float()
    flat = q.masked_fill(~valid, float('inf')).flatten()
    k = min(min_kept, flat.numel())
    kth = kth_smallest(flat, k)
    theta = kth.clamp_min(float(thresh))
    return valid & (q <= theta)


def scaled_min_kept(batch_size: int, height: int, width: int) -> int:
    """The reference's ``min_kept`` scaled to a batch of label maps.

    The reference keeps 100000 of the 4 x 512 x 1024 label pixels of a GPU
    batch: ``100000 / (4 * 512 * 1024) * B * H * W``, rounded, at least 1.

    Args:
        batch_size (int): Label maps per batch of one process.
        height (int): Their height.
        width (int): Their width.

    Returns:
        int: The scaled ``min_kept``.
    """
    return max(1,
               round(100000 / (4 * 512 * 1024) * batch_size * height * width))


def combine_hard_masks(hard_student: Tensor,
                       hard_teacher: Tensor,
                       mode: str = 'xor') -> Tensor:
    """Combine the student's and the teacher's hard-pixel masks.

    ``'xor'`` is RDD's relative difficulty (pixels on which the two disagree,
    in both directions); ``'or'`` and ``'and'`` are the paper's ablations;
    ``'student'`` ignores the teacher (plain OHEM on the student).

    Args:
        hard_student (Tensor): Boolean mask of shape (N, H, W).
        hard_teacher (Tensor): Boolean mask of shape (N, H, W).
        mode (str): One of :data:`COMBINE_MODES`. Defaults to 'xor'.

    Returns:
        Tensor: Boolean mask of shape (N, H, W), a new tensor.
    """
    if tuple(hard_student.shape) != tuple(hard_teacher.shape):
        raise ValueError(f'hard_student {tuple(hard_student.shape)} and '
                         f'hard_teacher {tuple(hard_teacher.shape)} must have '
                         'the same shape')
    combine = {
        'xor': torch.logical_xor,
        'or': torch.logical_or,
        'and': torch.logical_and,
        'student': lambda s, _: s.clone()
    }
    return combine[mode](hard_student, hard_teacher)


def class_pixel_counts(label: Tensor, valid: Tensor, masks: Sequence[Tensor],
                       num_classes: int) -> Tensor:
    """The valid pixels of each class, and those of them in each mask.

    ``counts[0, c]`` is the number of valid pixels labelled ``c``;
    ``counts[i + 1, c]`` the number of those inside ``masks[i]``. Counted on
    ``label``'s device with ``scatter_add_`` (no host synchronisation, unlike
    ``torch.bincount`` on CUDA, which reads the largest label first).

    Args:
        label (Tensor): Integer label map of shape (N, H, W); values in
            ``[0, num_classes)`` wherever ``valid`` is True.
        valid (Tensor): Boolean map of labelled pixels, (N, H, W).
        masks (Sequence[Tensor]): Boolean maps of shape (N, H, W).
        num_classes (int): Number of classes ``C``.

    Returns:
        Tensor: int64 counts of shape (1 + len(masks), C).
    """
    if tuple(valid.shape) != tuple(label.shape) or any(
            tuple(m.shape) != tuple(label.shape) for m in masks):
        raise ValueError(f'label {tuple(label.shape)}, valid and every mask '
                         'must have the same shape')
    # pixels outside a row go to an extra bin C, dropped at the end
    index = label.long().masked_fill(~valid, num_classes).flatten()
    counts = index.new_zeros((1 + len(masks), num_classes + 1))
    for row, inside in enumerate([valid, *masks]):
        row_index = index.masked_fill(~inside.flatten(), num_classes)
        counts[row].scatter_add_(0, row_index, torch.ones_like(row_index))
    return counts[:, :num_classes]


def starved_classes(valid: Tensor,
                    kept: Tensor,
                    hard_student: Optional[Tensor] = None,
                    max_kept_share: float = 0.05,
                    min_hard_share: float = 0.0,
                    min_pixels: int = 1) -> Tensor:
    """The classes a selection starves, from per-class pixel counts.

    Class ``c`` is starved when it has at least ``min_pixels`` valid
    pixels, the selection keeps fewer than ``max_kept_share`` of them and
    the student finds at least ``min_hard_share`` of them hard (it still
    predicts the class poorly)::

        n_valid(c) >= min_pixels
        and n_kept(c) < max_kept_share * n_valid(c)
        and n_hard_student(c) >= min_hard_share * n_valid(c)

    Args:
        valid (Tensor): Valid pixels per class, (C, ).
        kept (Tensor): Selected pixels per class, (C, ).
        hard_student (Tensor, optional): Pixels hard for the student per
            class, (C, ); needed when ``min_hard_share > 0``. Defaults to
            None.
        max_kept_share (float): Share of kept pixels below which a class is
            starved. Defaults to 0.05.
        min_hard_share (float): Share of pixels hard for the student from
            which a class counts as poorly predicted; 0 drops the
            condition. Defaults to 0.0.
        min_pixels (int): Fewest valid pixels of a starved class (at least
            1). Defaults to 1.

    Returns:
        Tensor: (C, ) bool.
    """
    if min_pixels < 1:
        raise ValueError(f'min_pixels must be >= 1, got {min_pixels}')
    valid = valid.double()
    starved = (valid >= min_pixels) & (kept.double() < max_kept_share * valid)
    if min_hard_share > 0:
        if hard_student is None:
            raise ValueError('min_hard_share > 0 needs the hard_student '
                             'counts')
        starved &= hard_student.double() >= min_hard_share * valid
    return starved


def keep_starved_classes(mask: Tensor, hard_student: Tensor,
                         hard_teacher: Tensor, label: Tensor, valid: Tensor,
                         num_classes: int, min_class_share: float) -> Tensor:
    """Add the pixels hard for both models of the classes a selection
    starves (an option of ours, not in the paper).

    XOR drops the pixels that both models find hard; on a thin or rare
    class that both find hard this can leave the class almost no pixel in
    the task loss. Over the batch, a class ``c`` is *starved* when it has
    valid pixels and ``mask`` keeps fewer than ``min_class_share`` of them
    (:func:`starved_classes` with ``max_kept_share=min_class_share``)::

        starved(c) = n_valid(c) > 0
                     and n_kept(c) < min_class_share * n_valid(c)
        out = mask | (hard_student & hard_teacher & starved(label))

    Classes that are not starved keep ``mask`` unchanged. No host
    synchronisation.

    Args:
        mask (Tensor): The selection, e.g. ``hard_student ^ hard_teacher``,
            (N, H, W) bool.
        hard_student (Tensor): The student's hard pixels, (N, H, W) bool.
        hard_teacher (Tensor): The teacher's hard pixels, (N, H, W) bool.
        label (Tensor): Labels, (N, H, W).
        valid (Tensor): Labelled pixels, (N, H, W) bool.
        num_classes (int): Number of classes ``C``.
        min_class_share (float): The share of a class's valid pixels below
            which the class is starved, in ``(0, 1]``.

    Returns:
        Tensor: The new selection, (N, H, W) bool.
    """
    counts = class_pixel_counts(label, valid, [mask], num_classes)
    starved = starved_classes(
        counts[0], counts[1], max_kept_share=min_class_share)
    # index C (unlabelled pixels) is never starved
    starved = torch.cat([starved, starved.new_zeros(1)])
    index = label.long().masked_fill(~valid, num_classes)
    return mask | (hard_student & hard_teacher & starved[index])


def tfe_difficulty(logits_main: Tensor,
                   logits_aux: Tensor,
                   direction: str = 'aux_main',
                   align_corners: bool = False) -> Tensor:
    """Teacher-Full-Evaluated difficulty weight (TFE-RDD, stage 1).

    The disagreement of the teacher's two heads, per pixel::

        v(p) = KL(P(aux) || P(main))   ('aux_main', the reference code)
        v(p) = KL(P(main) || P(aux))   ('main_aux', the paper's Eq. 6)
        w(p) = exp(-v(p))

    computed with ``log_softmax`` for numerical stability; ``v`` is clamped
    at 0 against rounding so that ``w <= 1``. If the auxiliary logits have a
    different spatial size they are first resized bilinearly to the main
    logits' size. Gradients are not blocked: call it under
    ``torch.no_grad()`` for teacher logits.

    Args:
        logits_main (Tensor): Main (decode) head logits, (N, C, H, W).
        logits_aux (Tensor): Auxiliary head logits, (N, C, H', W').
        direction (str): One of :data:`TFE_DIRECTIONS`. Defaults to
            'aux_main'.
        align_corners (bool): ``align_corners`` of the bilinear resize.
            Defaults to False.

    Returns:
        Tensor: ``w`` of shape (N, H, W), float32, in ``(0, 1]`` (it
        underflows to 0 only for a KL above ~87 nats).
    """
    if logits_main.dim() != 4 or logits_aux.dim() != 4 \
            or logits_main.shape[:2] != logits_aux.shape[:2]:
        raise ValueError('logits_main and logits_aux must be (N, C, H, W) '
                         'with the same N and C, got '
                         f'{tuple(logits_main.shape)} and '
                         f'{tuple(logits_aux.shape)}')
    logits_main = logits_main.float()
    logits_aux = logits_aux.float()
    if logits_aux.shape[2:] != logits_main.shape[2:]:
        logits_aux = F.interpolate(
            logits_aux,
            size=logits_main.shape[2:],
            mode='bilinear',
            align_corners=align_corners)
    log_p_main = F.log_softmax(logits_main, dim=1)
    log_p_aux = F.log_softmax(logits_aux, dim=1)
    log_p, log_q = dict(
        aux_main=(log_p_aux, log_p_main),
        main_aux=(log_p_main, log_p_aux))[direction]
    v = (log_p.exp() * (log_p - log_q)).sum(dim=1)
    return torch.exp(-v.clamp_min(0.0))


def resize_map(weight: Tensor,
               size: Union[Sequence[int], torch.Size],
               align_corners: bool = False) -> Tensor:
    """Bilinearly resize a per-pixel weight map.

    Args:
        weight (Tensor): Weight map of shape (N, H, W).
        size (Sequence[int]): Target spatial size ``(H', W')``.
        align_corners (bool): ``align_corners`` of the bilinear resize.
            Defaults to False.

    Returns:
        Tensor: Float32 weight map of shape (N, H', W'); the input (cast to
        float32) when the size already matches.
    """
    if weight.dim() != 3:
        raise ValueError('weight must have shape (N, H, W), got '
                         f'{tuple(weight.shape)}')
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise ValueError(f'size must be (H, W), got {size}')
    weight = weight.float()
    if tuple(weight.shape[1:]) == size:
        return weight
    return F.interpolate(
        weight.unsqueeze(1),
        size=size,
        mode='bilinear',
        align_corners=align_corners).squeeze(1)


def _gather_class_weight(class_weight: Optional[Tensor], label: Tensor,
                         like: Tensor) -> Tensor:
    """``class_weight[label]`` as float32 on ``like``'s device; ones if
    ``class_weight`` is None."""
    if class_weight is None:
        return torch.ones_like(like)
    class_weight = torch.as_tensor(class_weight)
    if class_weight.dim() != 1:
        raise ValueError('class weights must be a 1-D tensor of length C, '
                         f'got shape {tuple(class_weight.shape)}')
    return class_weight.to(device=like.device, dtype=torch.float32)[label]


def ce_loss_divisor(label: Tensor,
                    valid: Tensor,
                    class_weight: Optional[Tensor] = None,
                    avg_non_ignore: bool = False) -> Union[float, Tensor]:
    """The divisor of MMSeg 1.2.2's ``CrossEntropyLoss`` mean reduction.

    ``N * H * W`` (a Python number: no tensor is made for it), the number of
    valid pixels with ``avg_non_ignore``, or, with class weights, the sum of
    the valid pixels' class weights.

    Args:
        label (Tensor): Labels, (N, H, W).
        valid (Tensor): ``label != ignore_index``, (N, H, W) bool.
        class_weight (Tensor, optional): The loss's ``class_weight``, 1-D of
            length C, on ``label``'s device. Defaults to None.
        avg_non_ignore (bool): The loss's ``avg_non_ignore``. Defaults to
            False.

    Returns:
        float | Tensor: The divisor (a 0-d float tensor unless it is the
        pixel count).
    """
    if class_weight is None:
        return valid.sum().float() if avg_non_ignore else float(label.numel())
    weights = class_weight[label.long().masked_fill(~valid, 0)]
    return (weights * valid).sum()


def selected_mean_weight(mask: Tensor,
                         label: Tensor,
                         divisor: Union[int, float, Tensor],
                         class_weight: Optional[Tensor] = None,
                         loss_class_weight: Optional[Tensor] = None) -> Tensor:
    """Per-pixel weight that turns MMSeg's loss reduction into a
    class-weighted mean over the selected pixels.

    MMSeg's ``CrossEntropyLoss`` computes, with ``weight`` passed by the
    head's sampler and its own ``class_weight`` ``lcw``::

        loss = sum_p weight(p) * lcw[y(p)] * CE(p) / divisor

    where ``divisor`` is ``N * H * W`` (``avg_non_ignore=False``) or the
    number of non-ignored pixels (``avg_non_ignore=True``). This returns::

        weight(p) = mask(p) * cw[y(p)] * divisor
                    / sum_p mask(p) * cw[y(p)] * lcw[y(p)]

    so that ``loss = sum_p mask * cw * lcw * CE / sum_p mask * cw * lcw``,
    i.e. what ``nn.CrossEntropyLoss(weight=cw * lcw)`` gives on a target
    whose unselected pixels are ignored. When nothing is selected the weight
    is exactly 0 everywhere (never NaN or inf).

    Args:
        mask (Tensor): Boolean selection of shape (N, H, W).
        label (Tensor): Integer label map of shape (N, H, W); values in
            ``[0, C)`` wherever ``mask`` is True (anything, e.g.
            ``ignore_index``, elsewhere).
        divisor (int | float | Tensor): The loss's reduction divisor (a
            Python number or a 0-d tensor).
        class_weight (Tensor, optional): RDD's class weights ``cw``, 1-D of
            length C. Defaults to None (all ones).
        loss_class_weight (Tensor, optional): The task loss's own
            ``class_weight`` ``lcw``, 1-D of length C. Defaults to None (all
            ones).

    Returns:
        Tensor: Float32 weight map of shape (N, H, W).
    """
    if tuple(mask.shape) != tuple(label.shape) or mask.dim() != 3:
        raise ValueError(f'mask {tuple(mask.shape)} and label '
                         f'{tuple(label.shape)} must both be (N, H, W)')
    if mask.dtype != torch.bool:
        raise ValueError(f'mask must be a bool tensor, got {mask.dtype}')
    selected = mask.float()
    safe_label = label.long().masked_fill(~mask, 0)
    numerator = selected * _gather_class_weight(class_weight, safe_label,
                                                selected)
    lcw = _gather_class_weight(loss_class_weight, safe_label, selected)
    denominator = (numerator * lcw).sum()
    denominator = torch.where(denominator > 0, denominator,
                              torch.ones_like(denominator))
    if not isinstance(divisor, Tensor):
        # a fill on the device, not a host-to-device copy (no sync)
        divisor = denominator.new_full((), float(divisor))
    return numerator * (divisor.float() / denominator)
