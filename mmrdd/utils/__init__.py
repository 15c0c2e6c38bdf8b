# Copyright (c) mmrdd contributors. All rights reserved.
"""Utilities of mmrdd."""
from .checkpoint import kd_to_student_checkpoint, load_checkpoint_strict
from .launch import (check_model_runs_here, close_launcher, setup_amp,
                     setup_launcher)
from .resume import (check_resume_checkpoint, checkpoint_problem,
                     previous_good_checkpoint)

__all__ = [
    'setup_launcher', 'close_launcher', 'check_model_runs_here',
    'kd_to_student_checkpoint', 'load_checkpoint_strict', 'setup_amp'
]
__all__ += [
    'check_resume_checkpoint', 'checkpoint_problem', 'previous_good_checkpoint'
]
