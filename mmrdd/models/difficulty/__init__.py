# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD difficulty estimators (registered in MMRazor's ``TASK_UTILS``)."""
from .rdd_tfe_difficulty import RDDTFEDifficulty
from .rdd_tse_difficulty import RDDTSEDifficulty

__all__ = ['RDDTFEDifficulty', 'RDDTSEDifficulty']
