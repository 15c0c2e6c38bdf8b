"""Engine components of mmrdd."""
from .hooks import RDDStageHook
from .optimizers import RDDCPUAmpOptimWrapper

__all__ = ['RDDStageHook', 'RDDCPUAmpOptimWrapper']
