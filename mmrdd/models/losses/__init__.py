# Copyright (c) mmrdd contributors. All rights reserved.
from .rdd_weighted_channel_wise_divergence import \
    RDDWeightedChannelWiseDivergence
from .rdd_weighted_kl_divergence import RDDWeightedKLDivergence

__all__ = ['RDDWeightedKLDivergence', 'RDDWeightedChannelWiseDivergence']
