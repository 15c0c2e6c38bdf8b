# Copyright (c) mmrdd contributors. All rights reserved.
"""Runner hooks of mmrdd."""
from .iter_seed_hook import IterSeedHook
from .rdd_selection_watch_hook import RDDSelectionWatchHook
from .rdd_stage_hook import RDDStageHook
from .rdd_teacher_check_hook import RDDTeacherCheckHook
from .rdd_visualization_hook import RDDDifficultyVisHook

__all__ = ['IterSeedHook', 'RDDSelectionWatchHook', 'RDDStageHook']
__all__ += ['RDDTeacherCheckHook', 'RDDDifficultyVisHook']
