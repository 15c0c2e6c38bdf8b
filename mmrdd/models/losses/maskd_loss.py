# Copyright (c) mmrdd contributors. All rights reserved.
from typing import Optional

import torch
from mmrazor.registry import MODELS
from torch import Tensor

from ...functional.maskd import masked_map_kd, receptive_token_masks
from ..maskd.maskd_receptive_tokens import (TOKEN_KEY, check_token_shape,
                                            load_receptive_tokens)
from ._checks import check_positive
from .pair_kd_loss import PairKDLoss


@MODELS.register_module()
class MasKDLoss(PairKDLoss):
    """MasKD: distillation under the masks of learned receptive tokens.

    `Masked Distillation with Receptive Tokens
    <https://arxiv.org/abs/2205.14589>`_ (Huang et al., ICLR 2023). With
    the frozen tokens ``K`` (T, C) of stage 1 and the teacher's masks
    ``m = sigmoid(K @ T)`` (N, T, H, W)::

        d(n, t, c) = sum_p m_t(p)^2 (S_c(p) - T_c(p))^2 / (sum_p m_t(p) + eps)
        loss = loss_weight * 0.5 * mean_{n, t, c} d(n, t, c)

    The official segmentation code (hunto/MasKD, ``segmentation/losses/
    maskd.py``, ``MasKDLoss``; ``train_maskd.py`` applies it to the decode
    logits with weight 1 and to the auxiliary logits with 0.4, both masked
    by the same 8 tokens over the 19 classes). The tokens are a buffer:
    not trained (the official optimizer holds the student only),
    checkpointed under ``distiller.``, dropped by the student converter.

    Args:
        tokens (str, optional): The stage-1 checkpoint (see
            :func:`~mmrdd.models.maskd.load_receptive_tokens`). None builds
            the loss without tokens (tests; a resumed run takes them from
            its checkpoint); the loss then refuses to run until a state
            dict provides them.
        num_tokens (int): Number of tokens. Defaults to 8.
        channels (int): Channels of the maps (classes, for logits).
            Defaults to 19.
        eps (float): Added to each mask's area. Defaults to 1e-5.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    same_channels = True

    def __init__(self,
                 tokens: Optional[str],
                 num_tokens: int = 8,
                 channels: int = 19,
                 eps: float = 1e-5,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        check_token_shape(num_tokens, channels)
        self.eps = check_positive('eps', eps)
        self.register_buffer(TOKEN_KEY,
                             torch.full((num_tokens, channels), float('nan')))
        self.tokens_loaded = tokens is not None
        if tokens is not None:
            self.mask_token.copy_(
                load_receptive_tokens(tokens, num_tokens, channels))

    def _load_from_state_dict(self, state_dict, prefix, *args,
                              **kwargs) -> None:
        """Tokens from a state dict (``--resume``) count as loaded."""
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if prefix + TOKEN_KEY in state_dict:
            self.tokens_loaded = True

    def kd(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The masked loss of maps (N, C, H, W), masks from the teacher's."""
        if not self.tokens_loaded:
            raise RuntimeError(
                'MasKDLoss has no tokens: give tokens=PATH, the checkpoint '
                'of MasKD\'s stage 1 (tools/train.py configs/rdd/'
                'maskd-tokens_*.py).')
        if preds_T.shape[1] != self.mask_token.shape[1]:
            raise ValueError(
                f'the maps have {preds_T.shape[1]} channels, the tokens '
                f'{self.mask_token.shape[1]}: MasKD\'s tokens are learned on '
                'the teacher map they are applied to (the logits of a '
                'teacher with that many classes).')
        with torch.no_grad():
            masks = receptive_token_masks(preds_T.detach().float(),
                                          self.mask_token)
        return masked_map_kd(preds_S, preds_T, masks, self.eps)
