# Copyright (c) mmrdd contributors. All rights reserved.
from typing import Optional, Tuple

import torch.nn as nn
from mmengine.logging import MessageHub
from mmrazor.registry import MODELS
from torch import Tensor

from mmrdd.arg_checks import is_int
from ...functional.distill import channel_wise_divergence
from ...functional.dtype import at_least_float32
from ...functional.kt import row_triplet_margin, tailor_features
from ._checks import check_feature_channels, check_positive, check_positive_int


def tailoring_mlp(channels: int) -> nn.Sequential:
    """The official ``Tailoring(channels, channels // 2)``: 1x1 convs
    ``C -> C/2 -> C/2 -> C`` with ReLUs between."""
    latent = channels // 2
    return nn.Sequential(
        nn.Conv2d(channels, latent, 1),
        nn.ReLU(), nn.Conv2d(latent, latent, 1), nn.ReLU(),
        nn.Conv2d(latent, channels, 1))


@MODELS.register_module()
class KTFeatureTailoringLoss(nn.Module):
    """KT feature tailoring: channel-wise divergence + triplet contrast.

    `Knowledge Tailoring: Bridging the Teacher-Student Gap in Semantic
    Segmentation` (Cheung et al., Pattern Recognition 2025). One model's
    feature is re-mixed by its channel correlation with the other's
    (:func:`~mmrdd.functional.kt.tailor_features`, ``high`` and ``low``)
    and passed through a tailoring MLP ``Tail`` (1x1 convs ``C -> C/2 ->
    C/2 -> C``). Before ``tuning_iter`` the *student* is tailored to the
    teacher; from ``tuning_iter`` on the *teacher* to the student::

        iter <  tuning_iter:  h, l = Tail_S(tailor(T, S))   (C_t channels)
            loss = w_ft * CWD(h, T) + w_c * Tri(conv(S), h, l)
        iter >= tuning_iter:  h, l = Tail_T(tailor(S, T))   (C_s channels)
            loss = w_ft * CWD(S, h) + w_c * Tri(S, h, l)

    with ``CWD`` the channel-wise divergence at ``tau`` (the teacher side
    detached), ``Tri`` :func:`~mmrdd.functional.kt.row_triplet_margin`
    (PyTorch's triplet loss on 4-D maps) and ``conv`` a 1x1 convolution
    ``C_s -> C_t`` without bias. In the second stage the triplet's positive
    and negative are not detached: the student's gradient also flows
    through the correlation, as in the official code.

    As the official training loop (seok-hwa/KT ``train_KT.py``, on the
    decode head's last feature, the input of the classifier): the iteration
    is read from MMEngine's ``MessageHub`` (``'iter'``, 0-based, set by the
    runner before each step); the official loop switches at the 1-based
    iteration ``--tuning-point`` (default 10000), one step earlier. The
    official optimizer holds the student's parameters only, so the two
    tailoring MLPs and the 1x1 convolution keep their random
    initialisation (``train_modules=False``, the default, freezes them
    here); ``train_modules=True`` trains them with the student (an mmrdd
    option). They live in this loss, so the student converter drops them.
    MMRazor has no such loss.

    Args:
        student_channels (int): Channels ``C_s`` of the student's feature.
        teacher_channels (int): Channels ``C_t`` of the teacher's feature.
        tuning_iter (int): First (0-based) iteration that tailors the
            teacher. Defaults to 10000.
        tau (float): Temperature of the divergence (the official
            ``--kd-temperature``). Defaults to 4.0.
        margin (float): Margin of the triplet loss. Defaults to 1.0.
        ft_weight (float): Weight of the divergence (``--lambda-custom``).
            Defaults to 1.0.
        contrastive_weight (float): Weight of the triplet term
            (``--lambda-contrastive``). Defaults to 1.0.
        train_modules (bool): Train the MLPs and the convolution.
            Defaults to False (the official behaviour).
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 tuning_iter: int = 10000,
                 tau: float = 4.0,
                 margin: float = 1.0,
                 ft_weight: float = 1.0,
                 contrastive_weight: float = 1.0,
                 train_modules: bool = False) -> None:
        super().__init__()
        s = check_positive_int('student_channels', student_channels)
        t = check_positive_int('teacher_channels', teacher_channels)
        if s < 2 or t < 2:
            raise ValueError('the tailoring MLPs halve the channels: '
                             'student_channels and teacher_channels must be '
                             f'at least 2, got {s} and {t}.')
        if not is_int(tuning_iter) or tuning_iter < 0:
            raise ValueError('tuning_iter must be an int >= 0, got '
                             f'{tuning_iter!r}')
        self.tuning_iter = tuning_iter
        self.tau = check_positive('tau', tau)
        self.margin = float(margin)
        self.ft_weight = ft_weight
        self.contrastive_weight = contrastive_weight
        self.student_channels, self.teacher_channels = s, t
        # the official st_tail (on C_t channels) and tc_tail (on C_s)
        self.student_tail = tailoring_mlp(t)
        self.teacher_tail = tailoring_mlp(s)
        # the official st_conv, the triplet's anchor in the first stage
        self.student_conv = nn.Conv2d(s, t, 1, bias=False)
        self.train_modules = bool(train_modules)
        if not self.train_modules:
            for p in self.parameters():
                p.requires_grad_(False)

    @staticmethod
    def current_iter() -> int:
        """The runner's 0-based iteration, from MMEngine's MessageHub."""
        it = MessageHub.get_current_instance().get_info('iter')
        if it is None:
            raise RuntimeError(
                'KTFeatureTailoringLoss switches stage at tuning_iter and '
                "reads the iteration from MMEngine's MessageHub ('iter'), "
                'which the runner sets before each training step; outside '
                'a runner pass iteration= to forward().')
        return int(it)

    def terms(self,
              preds_S: Tensor,
              preds_T: Tensor,
              iteration: Optional[int] = None) -> Tuple[Tensor, Tensor]:
        """The unweighted ``(divergence, triplet)`` of one step.

        Args:
            preds_S (Tensor): Student feature of shape (N, C_s, H, W).
            preds_T (Tensor): Teacher feature of shape (N, C_t, H, W).
            iteration (int, optional): 0-based iteration. Defaults to None
                (the runner's, see :meth:`current_iter`).

        Returns:
            tuple[Tensor, Tensor]: Scalar float32 terms.
        """
        check_feature_channels(self, preds_S, preds_T)
        if iteration is None:
            iteration = self.current_iter()
        s = at_least_float32(preds_S)
        t = at_least_float32(preds_T.detach())
        if iteration < self.tuning_iter:
            high, low = tailor_features(t, s)
            high, low = self.student_tail(high), self.student_tail(low)
            ft = channel_wise_divergence(high, t, self.tau)
            anchor = self.student_conv(s)
        else:
            high, low = tailor_features(s, t)
            high, low = self.teacher_tail(high), self.teacher_tail(low)
            ft = channel_wise_divergence(s, high, self.tau)
            anchor = s
        return ft, row_triplet_margin(anchor, high, low, self.margin)

    def forward(self,
                preds_S: Tensor,
                preds_T: Tensor,
                iteration: Optional[int] = None) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student feature of shape (N, C_s, H, W).
            preds_T (Tensor): Teacher feature of shape (N, C_t, H, W).
            iteration (int, optional): 0-based iteration. Defaults to None
                (the runner's).

        Returns:
            Tensor: Scalar float32 loss.
        """
        ft, tri = self.terms(preds_S, preds_T, iteration)
        return self.ft_weight * ft + self.contrastive_weight * tri
