# Copyright (c) mmrdd contributors. All rights reserved.
import logging
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmrazor.registry import MODELS
from torch import Tensor

from mmrdd.arg_checks import is_number
from mmrdd.runtime import load_checkpoint_strict
from ...functional.maskd import token_stage_losses
from ..utils import main_head, run_heads, segmentor_heads
from .maskd_receptive_tokens import MasKDReceptiveTokens


@MODELS.register_module()
class MasKDTokenTrainer(BaseModel):
    """MasKD's stage 1: learn receptive tokens on a frozen teacher.

    `Masked Distillation with Receptive Tokens
    <https://arxiv.org/abs/2205.14589>`_ (Huang et al., ICLR 2023), as the
    official ``segmentation/train_mask_module.py`` (hunto/MasKD). With the
    teacher's decode-head logits ``Z`` (N, C, h, w) and the masks
    ``m = sigmoid(tokens @ Z)`` (N, T, h, w)::

        loss_ce   = CE(resize(Z * sum_t m_t), y)   mean over valid pixels
        loss_dice = dice_weight * mean_{n, i != j} dice(m_i, m_j)

    Only the tokens are trained; the teacher runs without gradient. Train
    it with ``tools/train.py`` on a ``maskd-tokens_*`` config: the
    checkpoint holds the tokens only (``tokens.mask_token``; the teacher
    comes from ``teacher_ckpt``), and is what
    :class:`~mmrdd.models.losses.MasKDLoss` loads (``tokens=PATH``).

    Differences from the official script, each documented in
    ``docs/kd_family.md``: the teacher is in eval mode (the official script
    leaves it in train mode, so its BN uses batch statistics and its
    dropout is on, while stage 2 masks eval-mode logits); the logits are
    resized with the teacher head's ``align_corners`` (MMSeg: False;
    CIRKD's models: True); the official total also adds 0.4 times the CE of
    the teacher's auxiliary logits, a constant without gradient for the
    tokens, which is not computed here.

    Args:
        teacher (dict | BaseModel): The teacher segmentor or its config
            (``cfg_path`` configs as in MMRazor).
        teacher_ckpt (str, optional): Teacher checkpoint, a local path or an
            ``https://`` URL, loaded strictly. Defaults to None (keeps the
            initialisation; only sensible in tests).
        num_tokens (int): Number of tokens, >= 2. Defaults to 8.
        init_std (float): Standard deviation of the initial tokens.
            Defaults to 0.01.
        dice_weight (float): Weight of the overlap term. Defaults to 1.0.
        data_preprocessor (dict, optional): Defaults to None (the
            teacher's).
        download_timeout (float): Seconds an ``https://`` ``teacher_ckpt``
            may wait for the server. Defaults to 60.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 num_tokens: int = 8,
                 init_std: float = 0.01,
                 dice_weight: float = 1.0,
                 data_preprocessor: Optional[Dict] = None,
                 download_timeout: float = 60.0,
                 init_cfg: Optional[Dict] = None) -> None:
        if isinstance(teacher, dict):
            teacher = MODELS.build(teacher)
        if data_preprocessor is None:
            data_preprocessor = teacher.data_preprocessor
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not is_number(dice_weight) or dice_weight < 0:
            raise ValueError('dice_weight must be a number >= 0, got '
                             f'{dice_weight!r}')
        self.teacher = teacher
        if teacher_ckpt:
            load_checkpoint_strict(
                self.teacher, teacher_ckpt, download_timeout=download_timeout)
            # keep the loaded weights through runner.model.init_weights()
            self.teacher.is_init = True
        else:
            print_log(
                'MasKDTokenTrainer: no teacher_ckpt, the teacher keeps its '
                'initialisation.',
                logger='current',
                level=logging.WARNING)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.head_name = main_head(self.teacher)
        head = segmentor_heads(self.teacher, 'decode_head')[self.head_name]
        self.num_classes = head.num_classes
        self.ignore_index = head.ignore_index
        self.align_corners = head.align_corners
        self.dice_weight = float(dice_weight)
        self.tokens = MasKDReceptiveTokens(
            channels=head.out_channels,
            num_tokens=num_tokens,
            init_std=init_std)
        # the checkpoint holds the tokens only: the teacher is frozen and
        # comes from teacher_ckpt
        self._register_state_dict_hook(_drop_teacher)

    def train(self, mode: bool = True) -> 'MasKDTokenTrainer':
        """Set the mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args,
                              **kwargs) -> None:
        """A checkpoint without the teacher (ours) keeps the loaded one."""
        for key, value in self.teacher.state_dict(prefix=prefix +
                                                  'teacher.').items():
            state_dict.setdefault(key, value)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def teacher_logits(self, inputs: Tensor) -> Tensor:
        """The teacher's decode-head logits (N, C, h, w), float32."""
        with torch.no_grad():
            feats = self.teacher.extract_feat(inputs)
            return run_heads(self.teacher, feats)[self.head_name].float()

    def loss(self, inputs: Tensor,
             data_samples: List[BaseDataElement]) -> Dict[str, Tensor]:
        """The stage-1 losses of a batch.

        Args:
            inputs (Tensor): Preprocessed images, (N, 3, H, W).
            data_samples (list[SegDataSample]): With ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: ``loss_ce``, ``loss_dice`` and ``mask_mean``
            (the mean mask value, logged only).
        """
        labels = torch.stack([s.gt_sem_seg.data
                              for s in data_samples]).squeeze(1).long()
        bad = ((labels < 0) | (labels >= self.num_classes)) & (
            labels != self.ignore_index)
        if bad.any():
            raise ValueError(
                f'{int(bad.sum())} label pixels are outside [0, '
                f'{self.num_classes}) and not ignore_index '
                f'({self.ignore_index}), e.g. {labels[bad][0].item()}: use '
                'the data set the teacher was trained on (Cityscapes: '
                'trainIds, not labelIds).')
        logits = self.teacher_logits(inputs)
        masks = self.tokens(logits)
        loss_ce, loss_dice = token_stage_losses(logits, masks, labels,
                                                self.ignore_index,
                                                self.align_corners)
        return dict(
            loss_ce=loss_ce,
            loss_dice=self.dice_weight * loss_dice,
            mask_mean=masks.detach().mean())

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], Tensor]:
        """``'loss'``: :meth:`loss`; ``'tensor'``: the masks (N, T, h, w).

        Stage 1 predicts nothing (``'predict'`` is an error): train it with
        ``val_cfg=None``; stage 2 uses the tokens.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.tokens(self.teacher_logits(inputs))
        raise RuntimeError(
            f'MasKDTokenTrainer has no {mode!r} mode: it learns MasKD\'s '
            'tokens and predicts nothing; set val_cfg=None, '
            'val_dataloader=None and val_evaluator=None.')


def _drop_teacher(module: MasKDTokenTrainer, state_dict: dict, prefix: str,
                  local_metadata: dict) -> None:
    """State-dict hook: leave out the frozen teacher's weights."""
    for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[key]
