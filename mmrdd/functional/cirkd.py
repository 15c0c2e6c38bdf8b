# Copyright (c) mmrdd contributors. All rights reserved.
"""Cross-image relational KD (CIRKD, Yang et al., CVPR 2022).

Pure tensor functions of the mini-batch pixel-to-pixel loss, of the
memory-based pixel-to-pixel / pixel-to-region losses, and of the memory
queue bookkeeping (which entries one batch contributes and where they land
in a ring buffer). The formulas follow the official code (winycg/CIRKD,
``losses/cirkd_mini_batch.py`` and ``losses/cirkd_memory.py``, used
unchanged by the RDD reference). The teacher's tensors are detached.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _softmax_kl_batchmean(s_logits: Tensor, t_logits: Tensor,
                          tau: float) -> Tensor:
    """``tau^2 * sum_rows KL(softmax(t/tau) || softmax(s/tau)) / rows``,
    in float32 also where autocast made the logits half precision (CUDA
    autocast runs ``log_softmax`` in float32 anyway; CPU autocast does
    not)."""
    log_p_s = F.log_softmax(s_logits.float() / tau, dim=1)
    log_p_t = F.log_softmax(t_logits.float() / tau, dim=1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum()
    return kl / s_logits.shape[0] * tau**2


def minibatch_pixel_pair_kd(feat_S: Tensor,
                            feat_T: Tensor,
                            tau: float = 0.1) -> Tensor:
    """Mini-batch pixel-to-pixel cross-image relation KD.

    For every ordered pair of images ``(i, j)`` of the batch, with features
    L2-normalised along channels, ``A_ij = f_i^T f_j`` is the ``HW x HW``
    matrix of pixel similarities; each row is turned into a distribution::

        loss = 1 / N^2 * sum_{i, j} 1 / HW * sum_rows
               KL(softmax(A^T_ij / tau) || softmax(A^S_ij / tau))

    Student and teacher may have different channel numbers (each similarity
    is computed within one model); their spatial sizes must match.

    Args:
        feat_S (Tensor): Student features of shape (N, C_s, H, W).
        feat_T (Tensor): Teacher features of shape (N, C_t, H, W); detached.
        tau (float): Temperature of the similarity distribution.
            Defaults to 0.1.

    Returns:
        Tensor: Scalar float32 loss.
    """
    fs = F.normalize(feat_S.float(), p=2, dim=1).flatten(2)  # N, C, HW
    with torch.no_grad():
        ft = F.normalize(feat_T.detach().float(), p=2, dim=1).flatten(2)
    n = fs.shape[0]
    total = fs.new_zeros(())
    for i in range(n):
        # row i against every image j of the batch: (N, HW, HW)
        s_sim = torch.einsum('ck,jcl->jkl', fs[i], fs)
        with torch.no_grad():
            t_sim = torch.einsum('ck,jcl->jkl', ft[i], ft)
        # no tau^2 factor here, as in the official code
        total = total + _softmax_kl_batchmean(
            s_sim.flatten(0, 1) / tau,
            t_sim.flatten(0, 1) / tau, 1.0) * n
    return total / (n * n)


def memory_contrast_kd(anchor_S: Tensor,
                       anchor_T: Tensor,
                       contrast: Tensor,
                       tau: float = 0.1,
                       kd_tau: float = 1.0) -> Tensor:
    """Memory-based relation KD of anchor pixels against memory entries.

    ``anchor_S`` and ``anchor_T`` are the L2-normalised (projected) student
    and teacher embeddings of the same ``M`` pixels; ``contrast`` holds
    ``K`` L2-normalised teacher embeddings sampled from a memory (pixels for
    the pixel-to-pixel, region means for the pixel-to-region loss)::

        z_M = anchor_M @ contrast^T / tau                  # (M, K)
        loss = kd_tau^2 / M * sum_rows
               KL(softmax(z_T / kd_tau) || softmax(z_S / kd_tau))

    Args:
        anchor_S (Tensor): Student anchors of shape (M, D).
        anchor_T (Tensor): Teacher anchors of shape (M, D); detached.
        contrast (Tensor): Memory entries of shape (K, D); detached.
        tau (float): Temperature of the similarities. Defaults to 0.1.
        kd_tau (float): Temperature of the distillation. Defaults to 1.0.

    Returns:
        Tensor: Scalar float32 loss.
    """
    contrast = contrast.detach().float()
    s_logits = anchor_S.float() @ contrast.t() / tau
    with torch.no_grad():
        t_logits = anchor_T.detach().float() @ contrast.t() / tau
    return _softmax_kl_batchmean(s_logits, t_logits, kd_tau)


def labels_at(labels: Tensor, size: Sequence[int]) -> Tensor:
    """Nearest-neighbour resize of a label map, as the reference does.

    Args:
        labels (Tensor): Labels of shape (N, H, W).
        size (Sequence[int]): Target ``(h, w)``.

    Returns:
        Tensor: Long labels of shape (N, h, w).
    """
    if tuple(labels.shape[-2:]) == tuple(size):
        return labels.long()
    return F.interpolate(
        labels[:, None].float(), tuple(size), mode='nearest')[:, 0].long()


def memory_entries(feat: Tensor,
                   labels: Tensor,
                   num_classes: int,
                   pixels_per_class: int = 16,
                   generator=None) -> Tuple[Tensor, Tensor, Tensor]:
    """What one batch contributes to the CIRKD memories, per image and class.

    For every image ``n`` and class ``c`` present in it: the region entry is
    the mean of the class's (normalised) features, L2-normalised again; the
    pixel entries are ``min(count, pixels_per_class)`` of its pixels drawn
    uniformly without replacement, L2-normalised.

    Args:
        feat (Tensor): L2-normalised teacher features of shape (N, D, h, w).
        labels (Tensor): Labels at feature size, shape (N, h, w).
        num_classes (int): Number of classes; labels outside
            ``[0, num_classes)`` (ignored pixels) contribute nothing.
        pixels_per_class (int): Pixel entries per image and class.
            Defaults to 16.
        generator (torch.Generator, optional): For the pixel draw.

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``region`` (N, C, D), ``pixel``
        (N, C, P, D) and ``count`` (N, C), the number of valid pixel entries
        (0 where the class is absent, so also the region mask); pixel
        entries beyond ``count`` are unspecified.
    """
    feat = feat.detach().float()
    n, d = feat.shape[:2]
    flat = feat.flatten(2).transpose(1, 2)  # N, HW, D
    lab = labels.reshape(n, -1)
    onehot = torch.stack([lab == c for c in range(num_classes)], 1)
    pix_count = onehot.sum(2)  # N, C
    denom = pix_count.clamp_min(1)[..., None].float()
    region = torch.bmm(onehot.float(), flat) / denom
    region = F.normalize(region, p=2, dim=2)
    k = min(pixels_per_class, flat.shape[1])
    if generator is None:
        scores = torch.rand(lab.shape, device=feat.device)
    else:
        scores = torch.rand(
            lab.shape, generator=generator,
            device=generator.device).to(feat.device)
    # a random subset of each class's pixels: the top-k random scores
    masked = torch.where(onehot, scores[:, None], scores.new_full((), -1.))
    idx = masked.topk(k, dim=2).indices  # N, C, k
    pixel = torch.gather(flat[:, None].expand(n, num_classes, -1, d), 2,
                         idx[..., None].expand(-1, -1, -1, d))
    pixel = F.normalize(pixel, p=2, dim=3)
    if k < pixels_per_class:
        pad = pixel.new_zeros(n, num_classes, pixels_per_class - k, d)
        pixel = torch.cat([pixel, pad], 2)
    count = pix_count.clamp_max(k)
    return region, pixel, count


def ring_buffer_writes(
        counts: List[List[int]],
        ptr: List[int],
        size: int,
        mode: str,
        width: int = 1) -> Tuple[List[int], List[int], List[int]]:
    """Where a batch's entries land in per-class ring buffers.

    Reproduces the reference's sequential enqueue exactly (images in order,
    classes ascending, later writes overwrite earlier ones):

    * ``'region'``: one entry per (image, present class), written at
      ``ptr[c]``, then ``ptr[c] = (ptr[c] + 1) % size``;
    * ``'pixel'``: ``K = counts[n][c]`` entries written at
      ``[ptr, ptr + K)``, or at the last ``K`` slots with ``ptr = 0`` when
      ``ptr + K >= size``.

    Args:
        counts (list[list[int]]): Valid entries per image and class (N, C).
        ptr (list[int]): Current pointer of each class.
        size (int): Slots per class.
        mode (str): ``'pixel'`` or ``'region'``.
        width (int): Entries per (image, class) in the source tensor (``P``
            of the pixel entries). Defaults to 1.

    Returns:
        tuple[list[int], list[int], list[int]]: ``sources`` (flat indices
        into the entries, ``(n * C + c) * width + j`` for pixels and
        ``n * C + c`` for regions), ``targets`` (flat slot ``c * size + s``)
        with each slot written once (the last write wins), and the new
        pointers.
    """
    num_classes = len(ptr)
    ptr = list(ptr)
    writes = {}
    for n, row in enumerate(counts):
        for c in range(num_classes):
            k = row[c]
            if k <= 0:
                continue
            if mode == 'region':
                writes[c * size + ptr[c]] = n * num_classes + c
                ptr[c] = (ptr[c] + 1) % size
                continue
            start = ptr[c]
            if start + k >= size:
                start, ptr[c] = size - k, 0
            else:
                ptr[c] = (start + k) % size
            for j in range(k):
                writes[c * size + start + j] = (n * num_classes + c) * \
                    width + j
    targets = sorted(writes)
    sources = [writes[t] for t in targets]
    return sources, targets, ptr
