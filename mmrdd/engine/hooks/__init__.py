# Copyright (c) mmrdd contributors. All rights reserved.
"""Runner hooks of the method: the TFE -> TSE stage switch, the selection
watch, the teacher check and the difficulty pictures."""
from .rdd_selection_watch_hook import RDDSelectionWatchHook
from .rdd_stage_hook import RDDStageHook
from .rdd_visualization_hook import RDDDifficultyVisHook
from .teacher_check_hook import TeacherCheckHook

__all__ = [
    'RDDStageHook', 'RDDSelectionWatchHook', 'TeacherCheckHook',
    'RDDDifficultyVisHook'
]
