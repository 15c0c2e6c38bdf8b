# Copyright (c) mmrdd contributors. All rights reserved.
"""Runner hooks of mmrdd."""
from .iter_seed_hook import IterSeedHook
from .rdd_selection_watch_hook import RDDSelectionWatchHook
from .rdd_stage_hook import RDDStageHook

__all__ = ['IterSeedHook', 'RDDSelectionWatchHook', 'RDDStageHook']
