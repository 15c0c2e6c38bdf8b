# Copyright (c) mmrdd contributors. All rights reserved.
from typing import Sequence, Tuple

import torch.nn as nn
from mmrazor.registry import MODELS
from torch import Tensor

from mmrdd.arg_checks import check_choice
from ...functional.afdcd import (afdcd_losses, center_keep_mask,
                                 check_contrast_sizes, random_keep_mask)
from ._checks import check_feature_channels, check_positive, check_positive_int

MASKS = ('random', 'center')
PROJECTORS = ('plain', 'enhanced')


class _EnhancedProjector(nn.Module):
    """The official ``EnhancedProjector``: two conv3x3-ReLU blocks, each
    followed by its own conv3x3 adaptor, outputs averaged."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block_1 = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU())
        self.block_2 = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU())
        self.adaptor_1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.adaptor_2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        x_1 = self.block_1(x)
        x_2 = self.block_2(x_1)
        return (self.adaptor_1(x_1) + self.adaptor_2(x_2)) / 2.


@MODELS.register_module()
class AfDCDLoss(nn.Module):
    """Af-DCD: masked feature mimicking + omni-contrastive distillation.

    `Augmentation-free Dense Contrastive Knowledge Distillation for Efficient
    Semantic Segmentation <https://openreview.net/pdf?id=caUhYUVsLl>`_ (Fan
    et al., NeurIPS 2023). The student's feature goes through a learned 1x1
    convolution to the teacher's channels (``align``), a mask (random:
    about ``mask_ratio`` of the positions of each image set to 0; or the
    central block), and a learned projector (conv3x3-ReLU-conv3x3, or the
    official ``EnhancedProjector``); the result ``P`` is compared with the
    teacher's feature ``T``::

        fd   = sum (P - T)^2 / N
        ctr  = omni_contrastive_loss(P, T)     # see mmrdd.functional.afdcd
        loss = fd_weight * fd + ctr_weight * ctr

    As the official ``OmniContrastiveFeatureLoss`` (OSVAI/Af-DCD,
    ``losses/ocmgd.py``), on the backbone's last feature (the official
    ``c4``): the alignment and the projector are trained with the student
    and live in this loss (so in the distiller: the student converter drops
    them). The random mask is drawn from torch's global generator on the
    feature's device (the official draws on the CPU and copies; on a CPU the
    two are the same draw). MMRazor has no such loss.

    Args:
        student_channels (int): Channels of the student's feature.
        teacher_channels (int): Channels of the teacher's feature.
        tau (float): Contrastive temperature. Defaults to 0.07.
        groups (int): Channel groups ``M`` of the tokens (the official
            ``M_ocd``). Defaults to 16.
        patch_size (Sequence[int]): Patch of the contrast, ``(ph, pw)``.
            Defaults to (4, 4).
        pool_size (int): Max-pooling before the contrast; 0 for none.
            Defaults to 4.
        mask (str): ``'random'`` (the official ``rand_mask=True``) or
            ``'center'``. Defaults to 'random'.
        mask_ratio (float): Share masked by the random mask. Defaults to
            0.75.
        projector (str): ``'plain'`` or ``'enhanced'`` (the official
            ``enhance_projector=True``). Defaults to 'plain'.
        fd_weight (float): Weight of the mimicking term (the Cityscapes
            scripts' ``--lambda-fd``). Defaults to 2e-6.
        ctr_weight (float): Weight of the contrastive term (the Cityscapes
            scripts' ``--lambda-ctr``). Defaults to 0.005.
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 tau: float = 0.07,
                 groups: int = 16,
                 patch_size: Sequence[int] = (4, 4),
                 pool_size: int = 4,
                 mask: str = 'random',
                 mask_ratio: float = 0.75,
                 projector: str = 'plain',
                 fd_weight: float = 2e-6,
                 ctr_weight: float = 0.005) -> None:
        super().__init__()
        s = check_positive_int('student_channels', student_channels)
        t = check_positive_int('teacher_channels', teacher_channels)
        self.tau = check_positive('tau', tau)
        self.groups = check_positive_int('groups', groups)
        if t % groups:
            raise ValueError(
                f'groups={groups} must divide teacher_channels={t}.')
        if len(patch_size) != 2:
            raise ValueError(
                f'patch_size must be (ph, pw), got {patch_size!r}')
        self.patch_size = tuple(
            check_positive_int('patch_size', p) for p in patch_size)
        if pool_size != 0:
            check_positive_int('pool_size', pool_size)
        self.pool_size = pool_size
        check_choice('AfDCDLoss', 'mask', mask, MASKS)
        self.mask = mask
        if not 0 <= mask_ratio < 1:
            raise ValueError(
                f'mask_ratio must be in [0, 1), got {mask_ratio!r}')
        self.mask_ratio = float(mask_ratio)
        check_choice('AfDCDLoss', 'projector', projector, PROJECTORS)
        self.fd_weight = fd_weight
        self.ctr_weight = ctr_weight
        self.align = nn.Conv2d(s, t, 1) if s != t else nn.Identity()
        if projector == 'enhanced':
            self.projector = _EnhancedProjector(t)
        else:
            self.projector = nn.Sequential(
                nn.Conv2d(t, t, 3, padding=1), nn.ReLU(),
                nn.Conv2d(t, t, 3, padding=1))
        self.student_channels, self.teacher_channels = s, t

    def keep_mask(self, feat: Tensor) -> Tensor:
        """This step's mask for an aligned feature (N, C, H, W)."""
        shape = (feat.shape[0], 1) + tuple(feat.shape[2:])
        if self.mask == 'random':
            return random_keep_mask(shape, self.mask_ratio, feat.device)
        return center_keep_mask(shape, feat.device)

    def terms(self, preds_S: Tensor, preds_T: Tensor) -> Tuple[Tensor, Tensor]:
        """The unweighted ``(fd, ctr)`` of one step (draws the mask).

        Args:
            preds_S (Tensor): Student feature of shape (N, C_s, H, W).
            preds_T (Tensor): Teacher feature of shape (N, C_t, H, W).

        Returns:
            tuple[Tensor, Tensor]: Scalar float32 terms.
        """
        check_feature_channels(self, preds_S, preds_T)
        check_contrast_sizes(self.teacher_channels, preds_T.shape[2],
                             preds_T.shape[3], self.groups, self.patch_size,
                             self.pool_size)
        aligned = self.align(preds_S)
        projected = self.projector(aligned * self.keep_mask(aligned))
        return afdcd_losses(projected, preds_T, self.tau, self.groups,
                            self.patch_size, self.pool_size)

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student feature of shape (N, C_s, H, W).
            preds_T (Tensor): Teacher feature of shape (N, C_t, H, W).

        Returns:
            Tensor: Scalar float32 loss.
        """
        fd, ctr = self.terms(preds_S, preds_T)
        return self.fd_weight * fd + self.ctr_weight * ctr
