# Copyright (c) mmrdd contributors. All rights reserved.
"""Models: the frozen-teacher algorithm, RDD's distiller, difficulty
estimators and sampler, losses, KD batch augments."""
from .algorithms import FrozenTeacherDistill
from .data_augments import (BatchAugSegDataPreProcessor, CandidatePicker,
                            MixedLabelLoss, SegCutMix, SegMixup)
from .difficulty import DifficultyEstimator, RDDTFEDifficulty, RDDTSEDifficulty
from .distillers import DistillStep, RDDDistiller
from .losses import WeightedChannelWiseDivergence, WeightedKLDivergence
from .maskd import MasKDReceptiveTokens, MasKDTokenTrainer
from .samplers import RDDPixelSampler

__all__ = [
    'FrozenTeacherDistill', 'DistillStep', 'RDDDistiller',
    'DifficultyEstimator', 'RDDTFEDifficulty', 'RDDTSEDifficulty',
    'RDDPixelSampler', 'WeightedKLDivergence', 'WeightedChannelWiseDivergence',
    'SegCutMix', 'BatchAugSegDataPreProcessor', 'SegMixup', 'MixedLabelLoss',
    'CandidatePicker', 'MasKDReceptiveTokens', 'MasKDTokenTrainer'
]
