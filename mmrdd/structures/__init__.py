# Copyright (c) mmrdd contributors. All rights reserved.
"""Data passed along one RDD training step."""
from .rdd_head_weights import RDDHeadWeights
from .rdd_step_record import RDDStepRecord

__all__ = ['RDDHeadWeights', 'RDDStepRecord']
