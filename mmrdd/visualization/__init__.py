# Copyright (c) mmrdd contributors. All rights reserved.
"""Visualisation of RDD's difficulty maps."""
from .difficulty import (TSE_COLOURS, colourise, difficulty_maps,
                         render_panel, tse_image, weight_image)
from .difficulty import SELECTED_COLOUR, difficulty_panel, selected_image

__all__ = [
    'difficulty_maps', 'colourise', 'tse_image', 'weight_image',
    'render_panel', 'TSE_COLOURS'
]
__all__ += ['difficulty_panel', 'selected_image', 'SELECTED_COLOUR']
