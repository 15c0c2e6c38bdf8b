# Copyright (c) mmrdd contributors. All rights reserved.
"""Models: the frozen-teacher algorithm, RDD's distiller, difficulty
estimators and sampler, losses, KD batch augments."""
from .algorithms import FrozenTeacherDistill
from .data_augments import (MixedLabelLoss, RDDCandidatePicker, RDDSegCutMix,
                            RDDSegDataPreProcessor, RDDSegMixup)
from .difficulty import DifficultyEstimator, RDDTFEDifficulty, RDDTSEDifficulty
from .distillers import DistillStep, RDDDistiller
from .losses import RDDWeightedChannelWiseDivergence, RDDWeightedKLDivergence
from .maskd import MasKDReceptiveTokens, MasKDTokenTrainer
from .samplers import RDDPixelSampler

__all__ = [
    'FrozenTeacherDistill', 'DistillStep', 'RDDDistiller',
    'DifficultyEstimator', 'RDDTFEDifficulty', 'RDDTSEDifficulty',
    'RDDPixelSampler', 'RDDWeightedKLDivergence',
    'RDDWeightedChannelWiseDivergence', 'RDDSegCutMix',
    'RDDSegDataPreProcessor', 'RDDSegMixup', 'MixedLabelLoss',
    'RDDCandidatePicker'
]
__all__ += ['MasKDReceptiveTokens', 'MasKDTokenTrainer']
