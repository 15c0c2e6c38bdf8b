# Copyright (c) mmrdd contributors. All rights reserved.
"""Pure tensor functions of RDD (no registry, no OpenMMLab import)."""
from .afdcd import (afdcd_losses, center_keep_mask, check_contrast_sizes,
                    omni_contrastive_loss, patch_group_tokens,
                    random_keep_mask)
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
from .kt import (class_masks, logit_tailoring_kd, row_triplet_margin,
                 tailor_features, tailor_logits)
from .maskd import (masked_map_kd, mean_valid_cross_entropy,
                    receptive_token_masks, token_dice_overlap,
                    token_masked_map, token_stage_losses)
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
    'intra_class_variation_kd', 'pearson_rows', 'seg_dist_loss',
    'receptive_token_masks', 'token_masked_map', 'token_dice_overlap',
    'masked_map_kd', 'mean_valid_cross_entropy', 'token_stage_losses',
    'random_keep_mask', 'center_keep_mask', 'patch_group_tokens',
    'check_contrast_sizes', 'omni_contrastive_loss', 'afdcd_losses',
    'tailor_features', 'row_triplet_margin', 'class_masks', 'tailor_logits',
    'logit_tailoring_kd'
]
