# Copyright (c) mmrdd contributors. All rights reserved.
"""What RDD knows of one student head: fixed when its sampler is installed."""
from dataclasses import dataclass, replace
from typing import Callable, Optional, Union

from torch import Tensor

from mmrdd.functional import ce_loss_divisor


@dataclass(frozen=True, eq=False)
class RDDHeadSpec:
    """The frozen description of a student head that RDD's estimators read.

    :class:`~mmrdd.models.RDDDistiller` builds one per student head when it
    installs the head's :class:`~mmrdd.models.RDDPixelSampler`; the sampler
    hands it to the stage's estimator with every call. Nothing in it changes
    during training, and the estimator gets no way back to the sampler or
    the head.

    Args:
        name (str): The head's name in the student (``'decode_head'``,
            ``'auxiliary_head'``, ``'decode_head.1'``, ...).
        teacher_head (str): The teacher head it pairs with in TSE.
        is_main (bool): Whether it is the student's main (final) head, whose
            statistics are logged and whose map weights distillation losses.
        ignore_index (int): The head's ``ignore_index``.
        num_classes (int): The head's ``num_classes``.
        avg_non_ignore (bool): ``avg_non_ignore`` of the head's
            ``CrossEntropyLoss``: part of the divisor rule of its mean.
        loss_class_weight (Tensor, optional): ``class_weight`` of the head's
            ``CrossEntropyLoss``, (C, ) float32, on the head's device.
            Defaults to None.
    """

    name: str
    teacher_head: str
    is_main: bool
    ignore_index: int
    num_classes: int
    avg_non_ignore: bool
    loss_class_weight: Optional[Tensor] = None

    def loss_divisor(self, label: Tensor,
                     valid: Tensor) -> Union[float, Tensor]:
        """The divisor of the head's CE mean, see
        :func:`~mmrdd.functional.ce_loss_divisor`.

        Args:
            label (Tensor): Labels, (N, H, W).
            valid (Tensor): ``label != ignore_index``, (N, H, W).

        Returns:
            float | Tensor: The divisor.
        """
        return ce_loss_divisor(label, valid, self.loss_class_weight,
                               self.avg_non_ignore)

    def apply(self, fn: Callable[[Tensor], Tensor]) -> 'RDDHeadSpec':
        """A copy with ``fn`` applied to its tensor (``Module._apply``'s
        ``fn``: a move to another device or dtype)."""
        if self.loss_class_weight is None:
            return self
        return replace(self, loss_class_weight=fn(self.loss_class_weight))
