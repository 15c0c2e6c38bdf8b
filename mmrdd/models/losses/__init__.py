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
from .seg_dist_loss import SegDISTLoss
from .skd_loss import SKDLoss
from .weighted_channel_wise_divergence import WeightedChannelWiseDivergence
from .weighted_kl_divergence import WeightedKLDivergence

__all__ = [
    'WeightedKLDivergence', 'WeightedChannelWiseDivergence',
    'CIRKDMiniBatchLoss', 'CIRKDMemoryLoss', 'DSDPixelSimilarityLoss',
    'DSDCategorySimilarityLoss', 'SKDLoss', 'IFVDLoss', 'SegDISTLoss',
    'MasKDLoss', 'AfDCDLoss', 'KTFeatureTailoringLoss', 'KTLogitTailoringLoss'
]
