# Copyright (c) mmrdd contributors. All rights reserved.
import os.path as osp
from typing import Tuple

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint
from mmrazor.registry import MODELS
from torch import Tensor

from mmrdd.arg_checks import is_int, is_number
from ...functional.maskd import receptive_token_masks

#: the name of the token matrix in a state dict (the official one's too)
TOKEN_KEY = 'mask_token'


def check_token_shape(num_tokens: int, channels: int) -> Tuple[int, int]:
    """``(num_tokens, channels)`` if at least 2 tokens over >= 1 channel.

    MasKD's stage-1 overlap term compares different tokens: one token has
    no pair, so its mean would be 0 / 0.
    """
    if not is_int(num_tokens) or num_tokens < 2:
        raise ValueError(
            f'num_tokens must be an int >= 2, got {num_tokens!r} (the '
            'overlap term of stage 1 compares pairs of tokens; MasKD uses 8)')
    if not is_int(channels) or channels < 1:
        raise ValueError(f'channels must be a positive int, got {channels!r}')
    return num_tokens, channels


def load_receptive_tokens(filename: str, num_tokens: int,
                          channels: int) -> Tensor:
    """Read MasKD's receptive tokens, a ``(num_tokens, channels)`` matrix.

    Accepts the checkpoint of the stage-1 config (``tools/train.py`` on a
    ``maskd-tokens_*`` config: ``state_dict['tokens.mask_token']``), the
    official code's file (``segmentation/train_mask_module.py`` and the
    released ``maskd_seg_deeplabv3_resnet101_citys.pth``: ``mask_token``),
    or any checkpoint whose only ``*mask_token`` entries are equal (a
    distillation checkpoint of ours holds one per MasKD loss).

    Args:
        filename (str): A local path or an ``https://`` URL.
        num_tokens (int): Expected number of tokens.
        channels (int): Expected channels (classes of the logits).

    Returns:
        Tensor: Float32 tokens of shape (num_tokens, channels).

    Raises:
        FileNotFoundError: A local path that does not exist.
        KeyError: No ``mask_token`` entry, or several different ones.
        ValueError: Tokens of another shape.
    """
    if not isinstance(filename, str) or not filename:
        raise ValueError('tokens must be the path of the stage-1 checkpoint, '
                         f'got {filename!r}')
    if '://' not in filename:
        if not osp.isfile(filename):
            raise FileNotFoundError(
                f'MasKD tokens "{filename}" do not exist: train them first '
                '(stage 1: tools/train.py configs/rdd/maskd-tokens_*.py '
                'writes work_dirs/<config name>/iter_<N>.pth) or give the '
                'file with --cfg-options model.distiller.distill_losses.'
                '<loss name>.tokens=PATH.')
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    found = {
        k: v
        for k, v in state_dict.items()
        if k == TOKEN_KEY or k.endswith('.' + TOKEN_KEY)
    }
    if not found:
        raise KeyError(
            f'{filename} holds no "{TOKEN_KEY}" entry: it is not a MasKD '
            f'token file (keys: {", ".join(list(state_dict)[:5])}, ...)')
    values = list(found.values())
    if any(v.shape != values[0].shape or not torch.equal(v, values[0])
           for v in values[1:]):
        raise KeyError(f'{filename} holds different token matrices '
                       f'({", ".join(found)}); extract the one to use.')
    tokens = values[0].float()
    if tuple(tokens.shape) != (num_tokens, channels):
        raise ValueError(
            f'the tokens in {filename} have shape {tuple(tokens.shape)}, '
            f'the config expects (num_tokens, channels) = ({num_tokens}, '
            f'{channels}): the tokens were learned on another teacher or '
            'data set.')
    return tokens


@MODELS.register_module()
class MasKDReceptiveTokens(nn.Module):
    """Learnable receptive tokens of MasKD (its stage 1).

    `Masked Distillation with Receptive Tokens
    <https://arxiv.org/abs/2205.14589>`_ (Huang et al., ICLR 2023). A token
    ``k_t`` (one row of a ``T x C`` matrix) turns a map ``F`` (N, C, H, W)
    into the soft pixel mask ``sigmoid(k_t . F(p))``. The official code's
    ``MaskModule`` (hunto/MasKD, ``segmentation/losses/maskd.py``): tokens
    drawn from N(0, 0.01^2), stored as ``mask_token`` (the official files
    load as they are).

    Args:
        channels (int): Channels of the map (classes, for logits).
        num_tokens (int): Number of tokens, >= 2. Defaults to 8.
        init_std (float): Standard deviation of the initial tokens.
            Defaults to 0.01.
    """

    def __init__(self,
                 channels: int,
                 num_tokens: int = 8,
                 init_std: float = 0.01) -> None:
        super().__init__()
        check_token_shape(num_tokens, channels)
        if not is_number(init_std) or init_std <= 0:
            raise ValueError(
                f'init_std must be a positive number, got {init_std!r}')
        self.mask_token = nn.Parameter(
            torch.empty(num_tokens, channels).normal_(0, init_std))

    def forward(self, feat: Tensor) -> Tensor:
        """The tokens' masks of ``feat`` (N, C, H, W): (N, T, H, W)."""
        if feat.dim() != 4 or feat.shape[1] != self.mask_token.shape[1]:
            raise ValueError(
                f'expected a (N, {self.mask_token.shape[1]}, H, W) map for '
                f'{self.mask_token.shape[0]} tokens of '
                f'{self.mask_token.shape[1]} channels, got '
                f'{tuple(feat.shape)}')
        return receptive_token_masks(feat.float(), self.mask_token)
