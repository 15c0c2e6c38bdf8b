# Copyright (c) mmrdd contributors. All rights reserved.
"""The bridge from RDD to a student head's own task loss."""
from typing import Optional, Tuple, Union

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import CrossEntropyLoss
from torch import Tensor, nn

from mmrdd.functional import ce_loss_divisor
from mmrdd.structures import RDDStepRecord


def _loss_reduction(head: BaseDecodeHead) -> Tuple[Optional[Tensor], bool]:
    """The class weights and ``avg_non_ignore`` of a head's CE losses.

    RDD's stage-2 weight normalises by the sum of the selected pixels'
    class weights, so it must know the class weights and the divisor that
    the head's ``CrossEntropyLoss`` applies itself.
    """
    losses = head.loss_decode if isinstance(
        head.loss_decode, nn.ModuleList) else [head.loss_decode]
    settings = set()
    for loss in losses:
        if isinstance(loss, CrossEntropyLoss):
            if loss.use_sigmoid or loss.use_mask:
                raise ValueError(
                    'RDD weights a softmax cross entropy; the student head '
                    f'{type(head).__name__} uses a sigmoid/mask CE loss.')
            class_weight = None if loss.class_weight is None else tuple(
                float(w) for w in loss.class_weight)
            settings.add((class_weight, bool(loss.avg_non_ignore)))
    if len(settings) > 1:
        raise ValueError(
            'RDD needs one class_weight/avg_non_ignore setting per student '
            f'head, but {type(head).__name__} has CE losses with '
            f'{sorted(settings, key=str)}: make them agree.')
    if not settings:
        return None, False
    class_weight, avg_non_ignore = settings.pop()
    return (None if class_weight is None else torch.tensor(class_weight),
            avg_non_ignore)


class RDDPixelSampler(nn.Module):
    """The RDD weights of one student head's task loss.

    MMSeg's decode heads call ``self.sampler.sample(seg_logits, seg_label)``
    inside ``loss_by_feat`` and pass the result as ``weight=`` to every
    ``loss_decode``: this is where RDD re-weights the student's own task loss
    while the student's loss config (types, class weights, loss weights)
    stays in charge. :class:`~mmrdd.models.RDDDistiller` installs one sampler
    per student head with a fixed description of that head (its name, the
    teacher head it pairs with, ignore index, class count, and the divisor
    rule and class weights of its ``CrossEntropyLoss``). In each step the
    distiller binds the step's :class:`~mmrdd.structures.RDDStepRecord`
    (:meth:`bind`); the sampler asks the record's estimator for its weights
    and adds them to the record. It has no parameters and only
    non-persistent buffers, so the student's state dict is unchanged.

    Args:
        name (str): The head's name in the student (``'decode_head'``,
            ``'auxiliary_head'``, ``'decode_head.1'``, ...).
        head (BaseDecodeHead): The student head.
        teacher_head (str): Name of the teacher head it pairs with in TSE.
        is_main (bool): Whether it is the student's main (final) head, whose
            statistics are logged and whose map weights distillation losses.
    """

    def __init__(self, name: str, head: BaseDecodeHead, teacher_head: str,
                 is_main: bool) -> None:
        super().__init__()
        self.name = name
        self.teacher_head = teacher_head
        self.is_main = is_main
        self.ignore_index = head.ignore_index
        self.num_classes = head.num_classes
        class_weight, self.avg_non_ignore = _loss_reduction(head)
        self.register_buffer(
            'loss_class_weight', class_weight, persistent=False)
        self.record: Optional[RDDStepRecord] = None

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

    def bind(self, record: Optional[RDDStepRecord]) -> None:
        """Give the sampler the record of the current step (None: unbind)."""
        self.record = record

    def sample(self, seg_logit: Tensor, seg_label: Tensor) -> Tensor:
        """Return the RDD weight of every pixel and add it to the record.

        Args:
            seg_logit (Tensor): Student logits at the label size, (N, C, H, W).
            seg_label (Tensor): Labels, (N, 1, H, W).

        Returns:
            Tensor: Weights, (N, H, W), float32, without gradient.
        """
        if self.record is None:
            raise RuntimeError(
                f'the RDD sampler of the student {self.name} was called '
                'outside an RDD training step: the student loss must be '
                'computed through RDDSingleTeacherDistill.loss().')
        with torch.no_grad():
            out = self.record.estimator(seg_logit.detach(),
                                        seg_label.squeeze(1), self,
                                        self.record)
        self.record.heads[self.name] = out
        return out.weight
