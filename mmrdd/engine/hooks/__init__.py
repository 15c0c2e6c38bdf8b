"""Runner hooks of mmrdd."""
from .rdd_iter_seed_hook import RDDIterSeedHook
from .rdd_selection_watch_hook import RDDSelectionWatchHook
from .rdd_stage_hook import RDDStageHook

__all__ = ['RDDIterSeedHook', 'RDDSelectionWatchHook', 'RDDStageHook']
