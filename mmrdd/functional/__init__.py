# Copyright (c) mmrdd contributors. All rights reserved.
"""Pure tensor functions of RDD (no registry, no OpenMMLab import)."""
from .difficulty import (COMBINE_MODES, TFE_DIRECTIONS, ce_loss_divisor,
                         combine_hard_masks, gt_class_prob, kth_smallest, ohem_hard_mask,
                         resize_map, selected_mean_weight, tfe_difficulty)
from .distill import (RESIZE_TO, channel_wise_divergence, match_logit_sizes,
                      pixel_kl_divergence)

__all__ = [
    'COMBINE_MODES', 'TFE_DIRECTIONS', 'gt_class_prob', 'kth_smallest',
    'ohem_hard_mask', 'combine_hard_masks', 'tfe_difficulty', 'resize_map',
    'selected_mean_weight', 'ce_loss_divisor', 'RESIZE_TO', 'match_logit_sizes',
    'pixel_kl_divergence', 'channel_wise_divergence'
]
