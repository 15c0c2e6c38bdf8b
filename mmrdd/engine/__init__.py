"""Engine components of mmrdd."""
from .hooks import RDDStageHook

__all__ = ['RDDStageHook']
