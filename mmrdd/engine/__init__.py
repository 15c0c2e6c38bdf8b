"""Engine components of mmrdd."""
from .hooks import RDDIterSeedHook, RDDStageHook
from .optimizers import RDDCPUAmpOptimWrapper

__all__ = ['RDDIterSeedHook', 'RDDStageHook', 'RDDCPUAmpOptimWrapper']
