# Copyright (c) mmrdd contributors. All rights reserved.
"""Test oracles: plain, slow computations that the fast code is checked
against.

The OHEM selection of the reference code (``OhemCrossEntropy2dTensor`` of
sunyueue/RDD and winycg/CIRKD, ``utils/loss.py``): softmax materialised over
the classes, a full ``argsort``, the threshold read back to the host.
``tools/mmrdd_lab/benchmark_masks.py`` times our selection against the
same functions.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def reference_gt_prob(logits: Tensor,
                      label: Tensor,
                      ignore_index: int = 255) -> Tensor:
    """``q`` as the reference ``OhemCrossEntropy2dTensor`` computes it.

    Softmax over classes in the logits' dtype, transposed to (C, N*H*W),
    gathered with the flattened target; ignored pixels get 1.

    Args:
        logits (Tensor): (N, C, H, W) at the label size.
        label (Tensor): (N, H, W).
        ignore_index (int): Defaults to 255.

    Returns:
        Tensor: (N, H, W), the ground-truth class probability.
    """
    n, c, h, w = logits.shape
    target = label.reshape(-1)
    valid = target != ignore_index
    prob = F.softmax(logits, dim=1).transpose(0, 1).reshape(c, -1)
    prob = prob.masked_fill(~valid, 1)
    q = prob[target * valid.long(),
             torch.arange(len(target), device=target.device)]
    return q.view(n, h, w)


def reference_ohem_mask(q: Tensor,
                        valid: Tensor,
                        thresh: float = 0.7,
                        min_kept: int = 100000) -> Tensor:
    """The OHEM rule of the reference code, with a full ``argsort``.

    No mining (every valid pixel kept) when the batch has fewer than
    ``min_kept`` valid pixels; else the threshold is ``thresh``, raised to
    the ``min_kept``-th smallest ``q`` if that is larger (compared on the
    host), and the pixels with ``q`` at most the threshold are kept.

    Args:
        q (Tensor): (N, H, W) ground-truth class probability, 1 (or any
            value) at ignored pixels.
        valid (Tensor): (N, H, W) bool, the labelled pixels.
        thresh (float): Defaults to 0.7.
        min_kept (int): Defaults to 100000.

    Returns:
        Tensor: (N, H, W) bool, the kept pixels.
    """
    flat_valid = valid.flatten()
    num_valid = int(flat_valid.sum())
    if min_kept > num_valid or num_valid == 0:
        return valid.clone()
    mask_prob = q.flatten().masked_fill(~flat_valid, 1)
    threshold = thresh
    index = mask_prob.argsort()
    threshold_index = index[min(len(index), min_kept) - 1]
    if mask_prob[threshold_index] > thresh:
        threshold = mask_prob[threshold_index]
    return (flat_valid & mask_prob.le(threshold)).view_as(valid)


# ------------------------------------------------------------- MasKD ----
# Restated in our own words from hunto/MasKD, segmentation/losses/maskd.py
# and segmentation/losses/loss.py at commit
# b5af34fe343f1b82689291871f85b97a6aea4278 (MaskModule.forward_mask,
# MaskModule.forward_train, dice_coeff, MasKDLoss.forward,
# SegCrossEntropyLoss.forward): the official tensor layout, no shortcut.
MASKD_COMMIT = 'b5af34fe343f1b82689291871f85b97a6aea4278'


def reference_maskd_masks(feat: Tensor, tokens: Tensor) -> Tensor:
    """``MaskModule.forward_mask``: the (T, C) tokens expanded to every
    image, times the map flattened to (N, C, H*W), sigmoid, (N, T, H, W)."""
    n, c, h, w = feat.shape
    attn = tokens.expand(n, -1, -1) @ feat.view(n, c, h * w)
    return attn.sigmoid().view(n, -1, h, w)


def reference_maskd_loss(preds_S: Tensor, preds_T: Tensor,
                         tokens: Tensor) -> Tensor:
    """``MasKDLoss.forward``: both maps times every mask, (N, T, C, H, W);
    squared differences summed over the pixels, divided by the mask's sum
    plus 1e-5, averaged over (N, T, C), halved."""
    masks = reference_maskd_masks(preds_T, tokens)
    masked_s = preds_S.unsqueeze(1) * masks.unsqueeze(2)
    masked_t = preds_T.unsqueeze(1) * masks.unsqueeze(2)
    per_channel = ((masked_s - masked_t)**2).sum((3, 4))
    per_channel = per_channel / (masks.sum((2, 3)).unsqueeze(-1) + 1e-5)
    return 0.5 * per_channel.mean()


def reference_dice_overlap(masks: Tensor) -> Tensor:
    """``dice_coeff`` as an explicit loop: per image and ordered pair of
    different tokens, ``2 <m_i, m_j> / ((|m_j|^2 + 1e-12) + (|m_i|^2 +
    1e-12))``, averaged over all of them."""
    flat = masks.flatten(2)
    n, t = flat.shape[:2]
    total, count = 0, 0
    for b in range(n):
        for i in range(t):
            for j in range(t):
                if i == j:
                    continue
                mi, mj = flat[b, i], flat[b, j]
                total = total + 2 * (mi * mj).sum() / ((
                    (mj * mj).sum() + 1e-12) + ((mi * mi).sum() + 1e-12))
                count += 1
    return total / count


def reference_token_stage_loss(logits: Tensor, labels: Tensor, tokens: Tensor,
                               ignore_index: int) -> Tensor:
    """One step of ``train_mask_module.py``: ``MaskModule.forward_train``
    (the logits times every mask, (N, T, C, h, w), summed over the tokens;
    plus ``dice_coeff`` of the masks) and ``SegCrossEntropyLoss`` (bilinear
    resize to the labels with ``align_corners=True``, then
    ``nn.CrossEntropyLoss(ignore_index)``, the mean over labelled pixels).
    The 0.4-weighted auxiliary CE of the script has no gradient for the
    tokens and is left out."""
    masks = reference_maskd_masks(logits, tokens)
    out = (logits.unsqueeze(1) * masks.unsqueeze(2)).sum(1)
    out = F.interpolate(
        out, labels.shape[-2:], mode='bilinear', align_corners=True)
    ce = torch.nn.CrossEntropyLoss(ignore_index=ignore_index)(out, labels)
    return ce + reference_dice_overlap(masks)


# ------------------------------------------- the CIRKD family and DIST ----
# Restated in our own words, step by step and in the official tensor
# layout, from winycg/CIRKD ``losses/*.py`` at commit
# dab64dbb5e4172141166cf8434a80ce55d9d3aa7 (``CriterionKD``,
# ``CriterionAT``, ``CriterionCWD``, ``CriterionFitNet``,
# ``CriterionStructuralKD``, ``CriterionIFV``, ``CriterionPSD``,
# ``CriterionCSD``, ``CriterionMiniBatchCrossImagePair``,
# ``StudentSegContrast``) and hunto/DIST_KD
# ``segmentation/losses/dist_kd.py`` at commit
# 2418f18b1fedd7c2646a7b1b9a27d5c674c2170b (``DIST``). The ignore label is
# an argument (the official scripts use -1, MMSeg 255). Run them in float64.
CIRKD_COMMIT = 'dab64dbb5e4172141166cf8434a80ce55d9d3aa7'
DIST_KD_COMMIT = '2418f18b1fedd7c2646a7b1b9a27d5c674c2170b'


def _kl_batchmean(s_logits: Tensor, t_logits: Tensor, tau: float) -> Tensor:
    """``F.kl_div(log_softmax(s / tau), softmax(t / tau), 'batchmean')``
    over the rows of (R, K) logits, times ``tau^2``: the sum over every
    entry of ``p_t * (log p_t - log p_s)``, divided by R."""
    log_p_s = F.log_softmax(s_logits / tau, dim=1)
    p_t = F.softmax(t_logits / tau, dim=1)
    kl = torch.where(p_t > 0, p_t * (p_t.log() - log_p_s),
                     torch.zeros_like(p_t))
    return kl.sum() / s_logits.shape[0] * tau**2


def reference_pixel_kd(s_logits: Tensor,
                       t_logits: Tensor,
                       tau: float = 1.0) -> Tensor:
    """``CriterionKD``: the (N, C, h, w) logits as (N*h*w, C) rows in
    (n, y, x) order, KL batchmean over the rows, times ``tau^2``."""
    c = t_logits.shape[1]
    rows_s = s_logits.permute(0, 2, 3, 1).reshape(-1, c)
    rows_t = t_logits.permute(0, 2, 3, 1).reshape(-1, c)
    return _kl_batchmean(rows_s, rows_t, tau)


def _attention(feat: Tensor) -> Tensor:
    """``F.normalize(f.pow(2).mean(1).view(N, -1))`` (AT, DSD)."""
    return F.normalize(feat.pow(2).mean(1).view(feat.shape[0], -1))


def reference_at(feat_S: Tensor, feat_T: Tensor) -> Tensor:
    """``CriterionAT``: mean squared difference of the attention maps."""
    return (_attention(feat_S) - _attention(feat_T)).pow(2).mean()


def reference_cwd(preds_S: Tensor,
                  preds_T: Tensor,
                  tau: float = 4.0,
                  conv_weight: Tensor = None) -> Tensor:
    """``CriterionCWD(norm_type='channel', divergence='kl')``.

    ``n, c`` are read from the student map *before* its 1x1 convolution,
    which runs only when the channel numbers differ; then per channel a
    softmax over the positions of ``map / tau``, ``log`` of the student's,
    ``KLDivLoss(reduction='sum')``, divided by ``n * c``, times ``tau^2``.
    """
    n, c = preds_S.shape[:2]
    if preds_S.shape[1] != preds_T.shape[1]:
        preds_S = F.conv2d(preds_S, conv_weight)
    norm_s = (preds_S / tau).reshape(n, preds_S.shape[1], -1).softmax(-1)
    norm_t = (preds_T / tau).reshape(n, preds_T.shape[1], -1).softmax(-1)
    kl = torch.where(norm_t > 0, norm_t * (norm_t.log() - norm_s.log()),
                     torch.zeros_like(norm_t))
    return kl.sum() / (n * c) * tau**2


def reference_fitnet(feat_S: Tensor, feat_T: Tensor,
                     conv_weight: Tensor) -> Tensor:
    """``CriterionFitNet``: the student through its 1x1 convolution (no
    bias), then the mean of the squared differences."""
    return (F.conv2d(feat_S, conv_weight) - feat_T).pow(2).mean()


def reference_skd(feat_S: Tensor, feat_T: Tensor) -> Tensor:
    """``CriterionStructuralKD``: 2x2 max pooling (ceil mode), L2
    normalisation over channels, per image the (hw x hw) Gram matrix of the
    positions, mean squared difference."""

    def gram(feat):
        x = F.max_pool2d(feat, (2, 2), (2, 2), 0, ceil_mode=True)
        x = F.normalize(x, p=2, dim=1)
        x = x.reshape(x.shape[0], x.shape[1], -1)
        return torch.bmm(x.transpose(1, 2), x)

    return (gram(feat_S) - gram(feat_T)).pow(2).mean()


def reference_ifvd(feat_S: Tensor, feat_T: Tensor, target: Tensor,
                   num_classes: int) -> Tensor:
    """``CriterionIFV``: the labels resized to the feature size (nearest),
    each class's pixels replaced by their class mean (``sum / (count +
    1e-6)``) one class after the other, other pixels left as they are;
    cosine similarity (eps 1e-8) of each pixel with its centre; mean squared
    difference over every position, unlabelled ones included."""
    size = feat_S.shape[-2:]
    lab = F.interpolate(target[:, None].double(), size, mode='nearest')

    def centre_similarity(feat):
        lab_f = lab.expand(feat.shape)
        centre = feat.clone()
        for i in range(num_classes):
            m = (lab_f == i).to(feat.dtype)
            mean = (m * feat).sum(-1).sum(-1) / (m.sum(-1).sum(-1) + 1e-6)
            centre = (1 - m) * centre + m * mean[..., None, None]
        return F.cosine_similarity(feat, centre, dim=1, eps=1e-8)

    return (centre_similarity(feat_S) -
            centre_similarity(feat_T)).pow(2).mean()


def reference_dsd_pixel(feats_S, feats_T) -> Tensor:
    """``CriterionPSD``: attention maps of each model's maps (in the given
    order), the normalised differences of every pair ``n < m``
    (``normalize(a_m - a_n)``), normalised once more, mean squared
    difference per pair, averaged over the pairs."""

    def residuals(feats):
        att = [_attention(f) for f in feats]
        return [
            F.normalize(att[m] - att[n]) for n in range(len(att) - 1)
            for m in range(n + 1, len(att))
        ]

    res_s, res_t = residuals(feats_S), residuals(feats_T)
    total = 0
    for r_s, r_t in zip(res_s, res_t):
        total = total + (F.normalize(r_s) - F.normalize(r_t)).pow(2).mean()
    return total / len(res_s)


def reference_dsd_category(logits_S: Tensor,
                           logits_T: Tensor,
                           tau: float = 4.0) -> Tensor:
    """``CriterionCSD``: 2x2 average pooling (ceil mode), per image and
    class a softmax of ``logits / tau`` over the positions, the (C x C)
    Gram matrix, mean squared difference."""

    def gram(logits):
        x = F.avg_pool2d(logits, (2, 2), (2, 2), 0, ceil_mode=True)
        x = x.reshape(x.shape[0], x.shape[1], -1)
        x = F.softmax(x / tau, dim=-1)
        return torch.bmm(x, x.transpose(1, 2))

    return (gram(logits_S) - gram(logits_T)).pow(2).mean()


def reference_cirkd_mini_batch(feat_S: Tensor,
                               feat_T: Tensor,
                               tau: float = 0.1) -> Tensor:
    """``CriterionMiniBatchCrossImagePair`` (feature maps smaller than
    256x256, so no pooling): features L2-normalised over channels; for
    every ordered pair of images ``(i, j)`` the (hw x hw) similarities
    ``f_i^T f_j``, KL batchmean over their rows at temperature ``tau``
    (no ``tau^2``); the sum over pairs divided by ``N^2``."""
    fs = F.normalize(feat_S, p=2, dim=1)
    ft = F.normalize(feat_T, p=2, dim=1)
    n, total = fs.shape[0], 0
    for i in range(n):
        for j in range(n):
            s_i = fs[i].reshape(fs.shape[1], -1).t()
            s_j = fs[j].reshape(fs.shape[1], -1).t()
            t_i = ft[i].reshape(ft.shape[1], -1).t()
            t_j = ft[j].reshape(ft.shape[1], -1).t()
            total = total + _kl_batchmean(s_i @ s_j.t() / tau,
                                          t_i @ t_j.t() / tau, 1.0)
    return total / (n * n)


def reference_cirkd_projection(feat: Tensor,
                               conv1: Tensor,
                               bn_weight: Tensor,
                               bn_bias: Tensor,
                               conv2: Tensor,
                               eps: float = 1e-5) -> Tensor:
    """``StudentSegContrast.project_head`` in training mode: 1x1 conv (no
    bias), batch norm with the batch's mean and biased variance over
    (N, H, W), ReLU, 1x1 conv (no bias)."""
    x = F.conv2d(feat, conv1)
    mean = x.mean((0, 2, 3), keepdim=True)
    var = (x - mean).pow(2).mean((0, 2, 3), keepdim=True)
    x = (x - mean) / (var + eps).sqrt()
    x = x * bn_weight[None, :, None, None] + bn_bias[None, :, None, None]
    return F.conv2d(F.relu(x), conv2)


def reference_cirkd_labels(target: Tensor, size) -> Tensor:
    """The labels at the feature size: nearest-neighbour resize."""
    return F.interpolate(
        target[:, None].double(), size, mode='nearest')[:, 0].long()


def reference_cirkd_memory_kd(emb_S: Tensor,
                              feat_T: Tensor,
                              target: Tensor,
                              contrast: Tensor,
                              ignore_index: int,
                              tau: float = 0.1,
                              kd_tau: float = 1.0) -> Tensor:
    """One of the two losses of ``StudentSegContrast.forward`` for a given
    contrast set (the memory entries its ``_sample_negative`` gathers, as
    (K, D) rows): the projected student embedding and the teacher feature
    L2-normalised over channels, the labels resized to the feature size;
    the labelled positions, as rows in (n, y, x) order, are the anchors;
    their similarities with the contrast rows over ``tau``; KL batchmean
    at ``kd_tau`` times ``kd_tau^2`` (``contrast_sim_kd``)."""
    fs = F.normalize(emb_S, p=2, dim=1)
    ft = F.normalize(feat_T, p=2, dim=1)
    labels = reference_cirkd_labels(target, fs.shape[-2:]).reshape(-1)
    keep = labels != ignore_index
    d = fs.shape[1]
    anchors_s = fs.permute(0, 2, 3, 1).reshape(-1, d)[keep]
    anchors_t = ft.permute(0, 2, 3, 1).reshape(-1, d)[keep]
    return _kl_batchmean(anchors_s @ contrast.t() / tau,
                         anchors_t @ contrast.t() / tau, kd_tau)


def reference_cirkd_region_enqueue(queue: Tensor, ptr: Tensor, feat_T: Tensor,
                                   target: Tensor, ignore_index: int):
    """The region part of ``StudentSegContrast._dequeue_and_enqueue`` on
    one process: image by image, every labelled class in ascending order
    writes the mean of its (normalised) teacher features, normalised, at
    its pointer, which then advances by one (modulo the memory size).

    Returns:
        tuple[Tensor, Tensor]: The updated copies of ``queue`` (C, M, D)
        and ``ptr`` (C,).
    """
    queue, ptr = queue.clone(), ptr.clone()
    ft = F.normalize(feat_T, p=2, dim=1)
    labels = reference_cirkd_labels(target, ft.shape[-2:])
    size = queue.shape[1]
    for b in range(ft.shape[0]):
        feat = ft[b].reshape(ft.shape[1], -1)
        lab = labels[b].reshape(-1)
        for c in torch.unique(lab).tolist():
            if c == ignore_index:
                continue
            idxs = (lab == c).nonzero()
            mean = feat[:, idxs].mean(1).squeeze(1)
            queue[c, int(ptr[c])] = F.normalize(mean.reshape(-1), p=2, dim=0)
            ptr[c] = (ptr[c] + 1) % size
    return queue, ptr


def reference_cirkd_pixel_pointers(ptr: Tensor,
                                   target: Tensor,
                                   size_hw,
                                   ignore_index: int,
                                   memory_size: int,
                                   update_freq: int = 16) -> Tensor:
    """The pixel part's pointers after one step of
    ``_dequeue_and_enqueue``: per image and labelled class ``K =
    min(count, update_freq)`` entries; a class whose pointer would reach
    the end writes the last ``K`` slots and restarts at 0."""
    ptr = ptr.clone()
    labels = reference_cirkd_labels(target, size_hw)
    for b in range(labels.shape[0]):
        lab = labels[b].reshape(-1)
        for c in torch.unique(lab).tolist():
            if c == ignore_index:
                continue
            k = min(int((lab == c).sum()), update_freq)
            if int(ptr[c]) + k >= memory_size:
                ptr[c] = 0
            else:
                ptr[c] = (ptr[c] + k) % memory_size
    return ptr


def reference_dist(logits_S: Tensor,
                   logits_T: Tensor,
                   beta: float = 1.0,
                   gamma: float = 1.0) -> Tensor:
    """hunto/DIST_KD ``DIST`` on (N, C, H, W): ``transpose(1, 3)`` and
    reshape to (N*W*H, C) rows, softmax over the classes; inter-class:
    ``1 - mean`` over rows of the Pearson correlation (cosine of the
    centred rows, ``eps`` 1e-8 added to the product of the norms);
    intra-class: the same on the transposed (C, rows) matrices."""
    c = logits_S.shape[1]
    y_s = logits_S.transpose(1, 3).reshape(-1, c).softmax(dim=1)
    y_t = logits_T.transpose(1, 3).reshape(-1, c).softmax(dim=1)

    def relation(a, b):
        a = a - a.mean(1).unsqueeze(1)
        b = b - b.mean(1).unsqueeze(1)
        cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + 1e-8)
        return 1 - cos.mean()

    return beta * relation(y_s, y_t) + gamma * relation(y_s.t(), y_t.t())
