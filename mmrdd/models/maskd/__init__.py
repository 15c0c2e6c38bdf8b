# Copyright (c) mmrdd contributors. All rights reserved.
"""MasKD's learned pieces that are not losses: the receptive tokens and the
model that learns them on a frozen teacher (stage 1, registered in
MMRazor's ``MODELS``). The distillation loss is
:class:`~mmrdd.models.losses.MasKDLoss`."""
from .maskd_receptive_tokens import MasKDReceptiveTokens, load_receptive_tokens
from .maskd_token_trainer import MasKDTokenTrainer

__all__ = [
    'MasKDReceptiveTokens', 'MasKDTokenTrainer', 'load_receptive_tokens'
]
