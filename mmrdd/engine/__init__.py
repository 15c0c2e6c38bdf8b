"""Engine components of mmrdd."""
from .hooks import RDDIterSeedHook, RDDSelectionWatchHook, RDDStageHook
from .optimizers import RDDCPUAmpOptimWrapper

__all__ = [
    'RDDIterSeedHook', 'RDDSelectionWatchHook', 'RDDStageHook',
    'RDDCPUAmpOptimWrapper'
]
