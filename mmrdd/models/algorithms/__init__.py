# Copyright (c) mmrdd contributors. All rights reserved.
"""Distillation algorithms."""
from .frozen_teacher_distill import FrozenTeacherDistill

__all__ = ['FrozenTeacherDistill']
