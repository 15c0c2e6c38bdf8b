# Copyright (c) mmrdd contributors. All rights reserved.
"""Engine components of mmrdd."""
from .hooks import (IterSeedHook, RDDDifficultyVisHook, RDDSelectionWatchHook,
                    RDDStageHook, RDDTeacherCheckHook)
from .optimizers import CPUAmpOptimWrapper

__all__ = [
    'IterSeedHook', 'RDDSelectionWatchHook', 'RDDStageHook',
    'CPUAmpOptimWrapper'
]
__all__ += ['RDDTeacherCheckHook', 'RDDDifficultyVisHook']
