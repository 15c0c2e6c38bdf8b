# Copyright (c) mmrdd contributors. All rights reserved.
"""RDD models: algorithm, distiller, difficulty estimators, losses."""
from .algorithms import RDDSingleTeacherDistill
from .data_augments import (RDDCandidatePicker, RDDMixedLabelLoss,
                            RDDSegCutMix, RDDSegDataPreProcessor, RDDSegMixup)
from .difficulty import RDDTFEDifficulty, RDDTSEDifficulty
from .distillers import RDDDistiller
from .losses import RDDWeightedChannelWiseDivergence, RDDWeightedKLDivergence
from .maskd import MasKDReceptiveTokens, MasKDTokenTrainer
from .samplers import RDDPixelSampler

__all__ = [
    'RDDSingleTeacherDistill', 'RDDDistiller', 'RDDTFEDifficulty',
    'RDDTSEDifficulty', 'RDDPixelSampler', 'RDDWeightedKLDivergence',
    'RDDWeightedChannelWiseDivergence', 'RDDSegCutMix',
    'RDDSegDataPreProcessor'
]
__all__ += ['RDDSegMixup', 'RDDMixedLabelLoss', 'RDDCandidatePicker']
__all__ += ['MasKDReceptiveTokens', 'MasKDTokenTrainer']
