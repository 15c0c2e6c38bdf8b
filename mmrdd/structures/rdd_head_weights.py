# Copyright (c) mmrdd contributors. All rights reserved.
"""What a difficulty estimator returns for one student head."""
from typing import Dict, NamedTuple, Optional

from torch import Tensor


class RDDHeadWeights(NamedTuple):
    """The RDD weights of one student head's task loss in one step.

    Args:
        weight (Tensor): Per-pixel weight passed to the head's
            ``loss_decode`` as ``weight=``, (N, H, W) at the label size,
            float32, without gradient.
        distill_map (Tensor): The estimator's difficulty map, from which
            :meth:`distill_weight` of the same estimator derives the weight
            of a difficulty-weighted distillation loss: the TFE weight at
            the teacher's logit size, (N, h, w), or the TSE selection at the
            label size, (N, H, W) bool.
        stats (dict[str, Tensor]): 0-d statistics to log (empty for heads
            whose statistics are not logged).
        class_counts (Tensor, optional): Per-class pixel counts of this
            step, (K, C) int64 on the device, the rows named by the
            estimator (TSE: valid, kept, hard for the student, hard for
            both models, see :func:`~mmrdd.functional.class_pixel_counts`);
            summed over steps by the distiller, read by a hook at the
            logging interval. Defaults to None (not counted).
    """

    weight: Tensor
    distill_map: Tensor
    stats: Dict[str, Tensor]
    class_counts: Optional[Tensor] = None
