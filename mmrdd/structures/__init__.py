# Copyright (c) mmrdd contributors. All rights reserved.
"""Data passed along one distillation step."""
from .rdd_head_spec import RDDHeadSpec
from .rdd_head_weights import RDDHeadWeights
from .rdd_step_record import RDDStepRecord
from .teacher_spec import TeacherSpec

__all__ = ['RDDHeadSpec', 'RDDHeadWeights', 'RDDStepRecord', 'TeacherSpec']
