# Copyright (c) mmrdd contributors. All rights reserved.
"""Distillation algorithms."""
from .rdd_single_teacher_distill import RDDSingleTeacherDistill

__all__ = ['RDDSingleTeacherDistill']
