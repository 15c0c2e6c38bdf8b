"""Distillation algorithms."""
from .rdd_single_teacher_distill import RDDSingleTeacherDistill

__all__ = ['RDDSingleTeacherDistill']
