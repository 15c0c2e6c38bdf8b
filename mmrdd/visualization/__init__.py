# Copyright (c) mmrdd contributors. All rights reserved.
"""Visualisation of RDD's difficulty maps."""
from .difficulty import (SELECTED_COLOUR, TSE_COLOURS, class_share_image,
                         class_shares, colourise, difficulty_maps,
                         difficulty_panel, render_panel, selected_image,
                         tse_image, weight_image)

__all__ = [
    'difficulty_maps', 'colourise', 'tse_image', 'weight_image',
    'render_panel', 'TSE_COLOURS'
]
__all__ += ['difficulty_panel', 'selected_image', 'SELECTED_COLOUR']
__all__ += ['class_shares', 'class_share_image']
