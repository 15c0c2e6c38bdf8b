# Copyright (c) mmrdd contributors. All rights reserved.
"""Oracles for Af-DCD and KT: plain, slow re-statements of the official
computations, in float64, written for these tests.

Af-DCD follows OSVAI/Af-DCD @ 5b086a7b4d92e5d14208d95347f05c014e5ca84a,
``losses/ocmgd.py``, ``OmniContrastiveFeatureLoss.get_dis_loss`` and
``get_omni_contrastive_loss``. KT follows seok-hwa/KT @
709743f0a769f206ef0652e3c5b703340d19f79c, ``train_KT.py``
(``Trainer.train``: the class masks, the logit tailoring loop, the feature
tailoring loops and the loss terms), ``losses/KT.py`` (``CriterionKT``
with ``norm_type='channel'``, ``divergence='kl'``) and
``models/tailoring.py``. ``tools/analysis_tools/check_official.py`` runs
the official code itself against ours.
"""
from typing import Callable, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


# ------------------------------------------------------------- Af-DCD ------
def afdcd_tokens(x: Tensor, groups: int, patch: Sequence[int]) -> Tensor:
    """Per image and patch, the tokens in the official order: for each
    position of the patch (row-major), each channel group's channels at
    that position. Gathered with one index built element by element.

    Returns:
        Tensor: (images x patches, tokens per patch, channels per group).
    """
    n, c, h, w = x.shape
    ph, pw = patch
    d = c // groups
    index = []
    for i in range(n):
        for py in range(h // ph):
            for px in range(w // pw):
                tokens = []
                for r in range(ph):
                    for q in range(pw):
                        y, z = py * ph + r, px * pw + q
                        for m in range(groups):
                            tokens.append([
                                ((i * c + m * d + e) * h + y) * w + z
                                for e in range(d)
                            ])
                index.append(tokens)
    return x.flatten()[torch.tensor(index)]


def afdcd_contrast(p: Tensor, t: Tensor, tau: float, groups: int,
                   patch: Sequence[int], pool: int) -> Tensor:
    """The omni-contrastive term, patch by patch as the official code
    batches it: ``s = -L1 distance / tau`` between every student and every
    teacher token of the patch; per token, its diagonal entry (positive)
    first, then its entries with teacher tokens of other channel groups
    (negatives), in index order; cross entropy with target 0, summed over
    all tokens and divided by N * H' * W' (the pooled size)."""
    p, t = p.double(), t.double()
    if pool:
        p, t = F.max_pool2d(p, pool), F.max_pool2d(t, pool)
    n, _, h, w = p.shape
    total = p.new_zeros(())
    for tok_s, tok_t in zip(
            afdcd_tokens(p, groups, patch), afdcd_tokens(t, groups, patch)):
        k = len(tok_s)
        sim = -(tok_s[:, None, :] - tok_t[None, :, :]).abs().sum(-1) / tau
        group = torch.arange(k) % groups
        negative = group[:, None] != group[None, :]
        logits = torch.cat(
            [sim.diagonal()[:, None], sim[negative].view(k, -1)], dim=1)
        total = total + F.cross_entropy(
            logits, torch.zeros(k, dtype=torch.long), reduction='sum')
    return total / (n * h * w)


def afdcd_terms(feat_S: Tensor, feat_T: Tensor, align: Callable,
                projector: Callable, keep: Tensor, tau: float, groups: int,
                patch: Sequence[int], pool: int) -> Tuple[Tensor, Tensor]:
    """``get_dis_loss``: align, mask, project; the summed squared error and
    the contrast, each divided by the batch size (the contrast already
    inside :func:`afdcd_contrast`)."""
    projected = projector(align(feat_S.double()) * keep.double())
    fd = ((projected - feat_T.double())**2).sum() / feat_S.shape[0]
    return fd, afdcd_contrast(projected, feat_T, tau, groups, patch, pool)


# ----------------------------------------------------------------- KT ------
def cwd(s: Tensor, t: Tensor, tau: float) -> Tensor:
    """``CriterionKT('channel', 'kl', T)``: per image and channel, KL of the
    teacher's spatial softmax from the student's; summed, / (N * C),
    times T^2."""
    s, t = s.double(), t.detach().double()
    n, c = s.shape[:2]
    total = s.new_zeros(())
    for i in range(n):  # one row per channel
        log_q = torch.log_softmax(s[i].reshape(c, -1) / tau, 1)
        p = torch.softmax(t[i].reshape(c, -1) / tau, 1)
        total = total + (p * (p.log() - log_q)).sum()
    return total / (n * c) * tau**2


def kt_tailor(guide: Tensor, source: Tensor) -> Tuple[Tensor, Tensor]:
    """One image at a time: unit-norm channel maps, their correlation,
    the source re-mixed by it and by one minus it."""
    highs, lows = [], []
    for g, s in zip(guide.double(), source.double()):
        c_g, h, w = g.shape
        gm, sm = g.reshape(c_g, -1), s.reshape(s.shape[0], -1)
        gn = gm / gm.norm(dim=1, keepdim=True).clamp(min=1e-12)
        sn = sm / sm.norm(dim=1, keepdim=True).clamp(min=1e-12)
        corr = gn @ sn.t()
        highs.append((corr @ sm).reshape(c_g, h, w))
        lows.append(((1 - corr) @ sm).reshape(c_g, h, w))
    return torch.stack(highs), torch.stack(lows)


def kt_triplet(a: Tensor,
               p: Tensor,
               n: Tensor,
               margin: float = 1.0,
               eps: float = 1e-7) -> Tensor:
    """``nn.TripletMarginLoss(margin, p=2, eps)`` written out: Euclidean
    distances over the last axis, hinge, mean."""
    a, p, n = a.double(), p.double(), n.double()
    d_p = ((a - p + eps)**2).sum(-1).sqrt()
    d_n = ((a - n + eps)**2).sum(-1).sqrt()
    return torch.clamp(margin + d_p - d_n, min=0).mean()


def kt_feature_loss(feat_S: Tensor, feat_T: Tensor, student_tail: Callable,
                    teacher_tail: Callable, conv: Callable, stage: str,
                    tau: float, margin: float) -> Tuple[Tensor, Tensor]:
    """The loop's FT_loss and contrastive_loss (weights 1) of one stage:
    ``'student'`` before the tuning point, ``'teacher'`` after."""
    if stage == 'student':
        high, low = kt_tailor(feat_T, feat_S)
        high, low = student_tail(high), student_tail(low)
        return cwd(high, feat_T,
                   tau), kt_triplet(conv(feat_S.double()), high, low, margin)
    high, low = kt_tailor(feat_S, feat_T)
    high, low = teacher_tail(high), teacher_tail(low)
    return cwd(feat_S, high, tau), kt_triplet(feat_S, high, low, margin)


def kt_tailor_logits(x: Tensor, labels: Tensor, num_classes: int,
                     ignore_index: int) -> Tuple[Tensor, Tensor]:
    """The loop's logit tailoring of one model's logits (at label size):
    class masks, then per image and class the in-place raise to the mean
    of the positive in-class values and cut to the mean of the out-of-class
    map, then the masks again."""
    x = x.double()
    inside = torch.zeros_like(x)
    for k in range(num_classes):
        inside[:, k] = ((labels == k) & (labels != ignore_index)).double()
    outside = 1 - inside
    cls, non = x * inside, x * outside
    for i in range(x.shape[0]):
        for k in range(num_classes):
            pos = cls[i][k][cls[i][k] > 0]
            m_in = pos.mean()  # nan if none: no value is below nan
            m_out = non[i][k].mean()
            cls[i][k][cls[i][k] < m_in] = m_in
            non[i][k][non[i][k] > m_out] = m_out
    return cls * inside, non * outside


def kt_logit_loss(s: Tensor, t: Tensor, labels: Tensor, tau: float,
                  ignore_index: int) -> Tensor:
    """LT_loss (weight 1): both logit maps resized to the labels (nearest),
    tailored, three channel-wise divergences."""
    size = labels.shape[-2:]
    s = F.interpolate(s.double(), size, mode='nearest')
    t = F.interpolate(t.detach().double(), size, mode='nearest')
    k = s.shape[1]
    cls_s, non_s = kt_tailor_logits(s, labels, k, ignore_index)
    cls_t, non_t = kt_tailor_logits(t, labels, k, ignore_index)
    return cwd(s, cls_t + non_t, tau) + cwd(cls_s, cls_t, tau) + cwd(
        non_s, non_t, tau)
