# Copyright (c) mmrdd contributors. All rights reserved.
"""Channel-wise divergence with an optional per-pixel weight map."""
from mmrazor.registry import MODELS

from mmrdd.functional import channel_wise_divergence
from .weighted_logit_divergence import WeightedLogitDivergence


@MODELS.register_module()
class WeightedChannelWiseDivergence(WeightedLogitDivergence):
    """Channel-wise divergence with an optional per-pixel weight map.

    `Channel-wise Distillation for Semantic Segmentation
    <https://arxiv.org/abs/2011.13256>`_ (CWD), where each spatial term may be
    weighted by a difficulty map of `RDD <https://arxiv.org/abs/2407.03719>`_::

        P(n, c, .) = softmax over the H * W positions of logits(n, c) / tau
        loss = loss_weight * tau^2 / (N * C) * sum_{n, c, p} weight(n, p)
               * P_T(n, c, p) * (log P_T(n, c, p) - log P_S(n, c, p))

    With ``weight=None`` it equals MMRazor's ``ChannelWiseDivergence``. The
    teacher's logits and the weight are detached. Arguments (``tau``,
    ``loss_weight``, ``resize_to``, ``align_corners``): see
    :class:`WeightedLogitDivergence`.
    """

    divergence = staticmethod(channel_wise_divergence)


#: the name of mmrdd 0.2
MODELS.register_module(
    name='RDDWeightedChannelWiseDivergence',
    module=WeightedChannelWiseDivergence)
