# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD difficulty estimators (registered in MMRazor's ``TASK_UTILS``)."""
from .difficulty_estimator import DifficultyEstimator
from .rdd_tfe_difficulty import RDDTFEDifficulty
from .rdd_tse_difficulty import RDDTSEDifficulty

__all__ = ['DifficultyEstimator', 'RDDTFEDifficulty', 'RDDTSEDifficulty']
