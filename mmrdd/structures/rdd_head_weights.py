# Copyright (c) mmrdd contributors. All rights reserved.
"""What a difficulty estimator returns for one student head."""
from typing import Dict, NamedTuple

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
    """

    weight: Tensor
    distill_map: Tensor
    stats: Dict[str, Tensor]
