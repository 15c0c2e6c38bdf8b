# Copyright (c) mmrdd contributors. All rights reserved.
from .afdcd_loss import AfDCDLoss
from .cirkd_memory_loss import CIRKDMemoryLoss
from .cirkd_mini_batch_loss import CIRKDMiniBatchLoss
from .dsd_category_similarity_loss import DSDCategorySimilarityLoss
from .dsd_pixel_similarity_loss import DSDPixelSimilarityLoss
from .ifvd_loss import IFVDLoss
from .kt_feature_tailoring_loss import KTFeatureTailoringLoss
from .kt_logit_tailoring_loss import KTLogitTailoringLoss
from .maskd_loss import MasKDLoss
from .rdd_seg_dist_loss import RDDSegDISTLoss
from .rdd_weighted_channel_wise_divergence import \
    RDDWeightedChannelWiseDivergence
from .rdd_weighted_kl_divergence import RDDWeightedKLDivergence
from .skd_loss import SKDLoss

__all__ = [
    'RDDWeightedKLDivergence', 'RDDWeightedChannelWiseDivergence',
    'CIRKDMiniBatchLoss', 'CIRKDMemoryLoss', 'DSDPixelSimilarityLoss',
    'DSDCategorySimilarityLoss', 'SKDLoss', 'IFVDLoss', 'RDDSegDISTLoss',
    'MasKDLoss', 'AfDCDLoss', 'KTFeatureTailoringLoss', 'KTLogitTailoringLoss'
]
