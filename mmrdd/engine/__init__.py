# Copyright (c) mmrdd contributors. All rights reserved.
"""The method's runner hooks: the stage switch and what watches RDD."""
from .hooks import (RDDDifficultyVisHook, RDDSelectionWatchHook, RDDStageHook,
                    TeacherCheckHook)

__all__ = [
    'RDDStageHook', 'RDDSelectionWatchHook', 'TeacherCheckHook',
    'RDDDifficultyVisHook'
]
