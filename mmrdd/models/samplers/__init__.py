# Copyright (c) mmrdd contributors. All rights reserved.
"""Pixel samplers that carry RDD weights into MMSeg heads."""
from .rdd_pixel_sampler import RDDPixelSampler, head_spec

__all__ = ['RDDPixelSampler', 'head_spec']
