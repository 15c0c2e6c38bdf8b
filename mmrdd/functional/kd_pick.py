# Copyright (c) mmrdd contributors. All rights reserved.
"""Candidate picking for KD (pure tensor functions).

Wang et al., "What Makes a 'Good' Data Augmentation in Knowledge
Distillation -- A Statistical Perspective", NeurIPS 2022 (first version:
"Knowledge Distillation Thrives on Data Augmentation", arXiv 2012.02909):
draw several augmented views, score each by how informative it is for KD
and train on the highest-scoring ones (CutMixPick).
"""
from typing import Any, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

PICK_CRITERIA: Tuple[str, ...] = ('kl', 'entropy')


def pixel_entropy(logits: Tensor, tau: float = 1.0) -> Tensor:
    """Entropy of ``softmax(logits / tau)`` over classes, per pixel.

    Args:
        logits (Tensor): (N, C, h, w).
        tau (float): Temperature. Defaults to 1.0.

    Returns:
        Tensor: (N, h, w) float32, in nats.
    """
    log_p = F.log_softmax(logits.float() / tau, dim=1)
    return -(log_p.exp() * log_p).sum(dim=1)


def pixel_kl(teacher_logits: Tensor,
             student_logits: Tensor,
             tau: float = 1.0) -> Tensor:
    """``KL(P(T) || P(S))`` over classes, per pixel, at temperature tau.

    Args:
        teacher_logits (Tensor): (N, C, h, w).
        student_logits (Tensor): (N, C, h, w), the same size.

    Returns:
        Tensor: (N, h, w) float32.
    """
    log_t = F.log_softmax(teacher_logits.float() / tau, dim=1)
    log_s = F.log_softmax(student_logits.float() / tau, dim=1)
    return (log_t.exp() * (log_t - log_s)).sum(dim=1)


def pick_scores(teacher_logits: Tensor,
                student_logits: Optional[Tensor] = None,
                criterion: str = 'entropy',
                tau: float = 1.0) -> Tensor:
    """One score per candidate image: the mean of a per-pixel score.

    ``'kl'``: mean over the h*w logit cells of ``KL(P(T) || P(S))``;
    ``'entropy'``: mean over the cells of the teacher's entropy. Every cell
    counts (padding too: it is the same in every candidate of one image).

    Args:
        teacher_logits (Tensor): (N, C, h, w).
        student_logits (Tensor, optional): (N, C, h, w), the teacher's size;
            needed for ``'kl'``. Defaults to None.
        criterion (str): ``'kl'`` or ``'entropy'``. Defaults to 'entropy'.
        tau (float): Temperature of both softmaxes. Defaults to 1.0.

    Returns:
        Tensor: (N, ) float32.
    """
    if criterion == 'kl':
        per_pixel = pixel_kl(teacher_logits, student_logits, tau)
    else:
        per_pixel = pixel_entropy(teacher_logits, tau)
    return per_pixel.flatten(1).mean(dim=1)


def top_indices(scores: Tensor, num: int) -> Tensor:
    """Indices of the ``num`` highest scores, in ascending index order.

    Args:
        scores (Tensor): (M, ) candidate scores.
        num (int): How many to keep, <= M.

    Returns:
        Tensor: (num, ) int64.
    """
    return torch.topk(scores, num, largest=True).indices.sort().values


def index_batch(obj: Any, index: Tensor, num: int) -> Any:
    """``obj`` with every tensor indexed by ``index`` along dim 0.

    Tuples, lists and dicts are walked; other leaves are returned as they
    are. A tensor whose first dimension is not ``num`` (the candidates)
    cannot be aligned with them and is an error.

    Args:
        obj (Any): A tensor or a nest of them (a recorded output).
        index (Tensor): (K, ) int64 indices of the kept candidates.
        num (int): The number of candidates.

    Returns:
        Any: The same structure, tensors (K, ...).
    """
    if isinstance(obj, Tensor):
        if obj.dim() == 0 or obj.shape[0] != num:
            raise ValueError(
                f'cannot keep the picked candidates of a recorded tensor of '
                f'shape {tuple(obj.shape)}: its first dimension is not the '
                f'{num} candidates (record only per-image tensors of the '
                'teacher, or switch picking off).')
        return obj[index.to(obj.device)]
    if isinstance(obj, tuple) and hasattr(obj, '_fields'):
        return type(obj)(*(index_batch(o, index, num) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(index_batch(o, index, num) for o in obj)
    if isinstance(obj, dict):
        return {k: index_batch(v, index, num) for k, v in obj.items()}
    return obj
