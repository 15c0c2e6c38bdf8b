# Copyright (c) mmrdd contributors. All rights reserved.
import torch.nn as nn
from torch import Tensor

from ._checks import check_same_size


class PairKDLoss(nn.Module):
    """Base of the distillation losses of one student and one teacher map.

    :meth:`forward` checks the pair once (4-D, same batch and spatial size;
    same channels too where :attr:`same_channels`, i.e. for logits) and
    weights what a subclass computes in :meth:`kd`, usually one pure
    function of :mod:`mmrdd.functional`.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    #: whether student and teacher maps must have the same channels
    same_channels = False

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def kd(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The unweighted loss of a checked pair; see the subclass."""
        raise NotImplementedError

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student map of shape (N, C_s, H, W).
            preds_T (Tensor): Teacher map of shape (N, C_t, H, W)
                (``C_t == C_s`` where :attr:`same_channels`).

        Returns:
            Tensor: Scalar float32 loss.
        """
        check_same_size(preds_S, preds_T, same_channels=self.same_channels)
        return self.loss_weight * self.kd(preds_S, preds_T)
