"""Runner hooks of mmrdd."""
from .rdd_stage_hook import RDDStageHook

__all__ = ['RDDStageHook']
