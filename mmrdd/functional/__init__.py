# Copyright (c) mmrdd contributors. All rights reserved.
"""Pure tensor functions of RDD (no registry, no OpenMMLab import)."""
from .cirkd import (labels_at, memory_contrast_kd, memory_entries,
                    minibatch_pixel_pair_kd, ring_buffer_writes)
from .difficulty import (COMBINE_MODES, TFE_DIRECTIONS, ce_loss_divisor,
                         class_pixel_counts, combine_hard_masks, gt_class_prob,
                         keep_starved_classes, kth_smallest, ohem_hard_mask,
                         resize_map, scaled_min_kept, selected_mean_weight,
                         starved_classes, tfe_difficulty)
from .dist import pearson_rows, seg_dist_loss
from .distill import (RESIZE_TO, channel_wise_divergence, match_logit_sizes,
                      pixel_kl_divergence)
from .dsd import (attention_map, category_similarity, category_similarity_kd,
                  pixel_similarity_kd)
from .ifvd import class_center_similarity, intra_class_variation_kd
from .skd import pairwise_similarity, pairwise_similarity_kd

__all__ = [
    'COMBINE_MODES', 'TFE_DIRECTIONS', 'gt_class_prob', 'kth_smallest',
    'ohem_hard_mask', 'combine_hard_masks', 'class_pixel_counts',
    'keep_starved_classes', 'starved_classes', 'scaled_min_kept',
    'tfe_difficulty', 'resize_map', 'selected_mean_weight', 'ce_loss_divisor',
    'RESIZE_TO', 'match_logit_sizes', 'pixel_kl_divergence',
    'channel_wise_divergence', 'minibatch_pixel_pair_kd', 'memory_contrast_kd',
    'memory_entries', 'ring_buffer_writes', 'labels_at', 'attention_map',
    'pixel_similarity_kd', 'category_similarity', 'category_similarity_kd',
    'pairwise_similarity', 'pairwise_similarity_kd', 'class_center_similarity',
    'intra_class_variation_kd', 'pearson_rows', 'seg_dist_loss'
]
