# Copyright (c) mmrdd contributors. All rights reserved.
"""The bridge from RDD to a student head's own task loss."""
from contextlib import contextmanager
from typing import Iterator, Optional, Tuple

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import CrossEntropyLoss
from torch import Tensor, nn

from mmrdd.structures import RDDHeadSpec, RDDStepRecord
from ..difficulty import DifficultyEstimator


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


def head_spec(name: str, head: BaseDecodeHead, teacher_head: str,
              is_main: bool) -> RDDHeadSpec:
    """The frozen description of a student head that RDD's estimators read.

    Args:
        name (str): The head's name in the student.
        head (BaseDecodeHead): The student head.
        teacher_head (str): Name of the teacher head it pairs with in TSE.
        is_main (bool): Whether it is the student's main (final) head.

    Returns:
        RDDHeadSpec: Name, pair, ``ignore_index``, ``num_classes`` and the
        divisor rule and class weights of the head's ``CrossEntropyLoss``.
    """
    class_weight, avg_non_ignore = _loss_reduction(head)
    return RDDHeadSpec(
        name=name,
        teacher_head=teacher_head,
        is_main=is_main,
        ignore_index=head.ignore_index,
        num_classes=head.num_classes,
        avg_non_ignore=avg_non_ignore,
        loss_class_weight=class_weight)


class RDDPixelSampler(nn.Module):
    """The RDD weights of one student head's task loss.

    MMSeg's decode heads call ``self.sampler.sample(seg_logits, seg_label)``
    inside ``loss_by_feat`` and pass the result as ``weight=`` to every
    ``loss_decode``: this is where RDD re-weights the student's own task loss
    while the student's loss config (types, class weights, loss weights)
    stays in charge. :class:`~mmrdd.models.RDDDistiller` installs one sampler
    per student head with the head's frozen
    :class:`~mmrdd.structures.RDDHeadSpec` (see :func:`head_spec`). In each
    step the distiller binds the stage's estimator and the step's
    :class:`~mmrdd.structures.RDDStepRecord` (:meth:`bind`); the sampler
    hands its logits, labels, spec and the record to the estimator and adds
    the :class:`~mmrdd.structures.RDDHeadWeights` it returns to the record.
    Data flows one way: record -> estimator -> weights; the estimator gets
    no sampler. The sampler has no parameters and no buffers, so the
    student's state dict is unchanged; the spec's class weights move with
    the module (:meth:`_apply`).

    Args:
        spec (RDDHeadSpec): The head.
    """

    def __init__(self, spec: RDDHeadSpec) -> None:
        super().__init__()
        self.spec = spec
        # (estimator, record, collect) of the bound step; a tuple, so that
        # the estimator does not become a submodule of the student
        self._step: Optional[Tuple[DifficultyEstimator, RDDStepRecord,
                                   bool]] = None

    def _apply(self, fn, *args, **kwargs):
        """Move the spec's class weights as ``Module`` moves buffers (as
        torchmetrics' ``Metric._apply`` moves its states)."""
        super()._apply(fn, *args, **kwargs)
        self.spec = self.spec.apply(fn)
        return self

    @contextmanager
    def bind(self,
             estimator: DifficultyEstimator,
             record: RDDStepRecord,
             collect: bool = True) -> Iterator[None]:
        """Use ``estimator`` and ``record`` inside (one step).

        Args:
            estimator (DifficultyEstimator): The stage's estimator.
            record (RDDStepRecord): The step's record.
            collect (bool): Add the weights to ``record.heads``; False for
                a second loss pass whose weights are not the step's (the
                partner label map of mixup). Defaults to True.
        """
        self._step = (estimator, record, collect)
        try:
            yield
        finally:
            self._step = None

    def sample(self, seg_logit: Tensor, seg_label: Tensor) -> Tensor:
        """Return the RDD weight of every pixel; add it to the record.

        Args:
            seg_logit (Tensor): Student logits at the label size, (N, C, H, W).
            seg_label (Tensor): Labels, (N, 1, H, W).

        Returns:
            Tensor: Weights, (N, H, W), float32, without gradient.
        """
        if self._step is None:
            raise RuntimeError(
                f'the RDD sampler of the student {self.spec.name} was called '
                'outside an RDD training step: the student loss must be '
                'computed through FrozenTeacherDistill.loss().')
        estimator, record, collect = self._step
        with torch.no_grad():
            out = estimator(seg_logit.detach(), seg_label.squeeze(1),
                            self.spec, record)
        if collect:
            record.heads[self.spec.name] = out
        return out.weight
