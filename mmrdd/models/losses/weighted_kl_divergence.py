# Copyright (c) mmrdd contributors. All rights reserved.
"""Pixel KD with an optional per-pixel weight map."""
from mmrazor.registry import MODELS

from mmrdd.functional import pixel_kl_divergence
from .weighted_logit_divergence import WeightedLogitDivergence


@MODELS.register_module()
class WeightedKLDivergence(WeightedLogitDivergence):
    """Pixel-wise KL divergence of the student's class distribution from the
    teacher's, with an optional per-pixel weight map.

    The distillation loss of Relative Difficulty Distillation (`RDD
    <https://arxiv.org/abs/2407.03719>`_ and its reference code), averaged
    over all pixels::

        loss = loss_weight * mean_{n, p} weight(n, p) * tau^2
               * sum_c P_T(c, p) * (log P_T(c, p) - log P_S(c, p))

    with ``P = softmax(logits / tau)`` over classes. With ``weight=None`` it
    is the plain pixel KD (``H * W`` times smaller than MMRazor's
    ``KLDivergence`` with ``reduction='batchmean'``). The teacher's logits and
    the weight are detached. Arguments (``tau``, ``loss_weight``,
    ``resize_to``, ``align_corners``): see :class:`WeightedLogitDivergence`.
    """

    divergence = staticmethod(pixel_kl_divergence)


#: the name of mmrdd 0.2
MODELS.register_module(
    name='RDDWeightedKLDivergence', module=WeightedKLDivergence)
