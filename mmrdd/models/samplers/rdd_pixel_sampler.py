"""The bridge from RDD to a student head's own task loss."""
from typing import Optional, Tuple

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import CrossEntropyLoss
from mmseg.structures.sampler import BasePixelSampler
from torch import Tensor, nn


def _loss_reduction(head: BaseDecodeHead) -> Tuple[Optional[Tensor], bool]:
    """The class weights and ``avg_non_ignore`` of a head's CE losses.

    RDD's stage-2 weight normalises by the sum of the selected pixels'
    class weights, so it must know the class weights and the divisor that
    the head's ``CrossEntropyLoss`` applies itself.
    """
    losses = head.loss_decode if isinstance(head.loss_decode,
                                            nn.ModuleList) else [
                                                head.loss_decode]
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


class RDDPixelSampler(BasePixelSampler):
    """Per-pixel weights for a student head, supplied by an RDD distiller.

    MMSeg's decode heads call ``self.sampler.sample(seg_logits, seg_label)``
    inside ``loss_by_feat`` and pass the result as ``weight=`` to every
    ``loss_decode``: this is where RDD re-weights the student's own task loss
    while the student's loss config (types, class weights, loss weights)
    stays in charge. :class:`~mmrdd.models.RDDDistiller` installs one sampler
    per student head; it is a plain object (not an ``nn.Module``), so the
    student's state dict is unchanged.

    Args:
        distiller: The RDD distiller that computes the weights.
        role (str): ``'decode'`` or ``'aux'``: which teacher head pairs with
            this student head in the TSE stage.
        head (BaseDecodeHead): The student head the sampler is installed on.
    """

    def __init__(self, distiller, role: str, head: BaseDecodeHead) -> None:
        super().__init__()
        self.distiller = distiller
        self.role = role
        self.ignore_index = head.ignore_index
        self.num_classes = head.num_classes
        self.loss_class_weight, self.avg_non_ignore = _loss_reduction(head)

    def loss_divisor(self, label: Tensor, valid: Tensor) -> Tensor:
        """The ``avg_factor`` MMSeg 1.2.2's ``CrossEntropyLoss`` divides by.

        ``N*H*W`` (or the valid count with ``avg_non_ignore``); with class
        weights, the sum of the label's class weights (MMSeg 1.2.2 raises on
        ignored labels in that case, before RDD's weights matter).

        Args:
            label (Tensor): Labels, (N, H, W).
            valid (Tensor): ``label != ignore_index``, (N, H, W).

        Returns:
            Tensor: 0-d divisor.
        """
        if self.loss_class_weight is None:
            count = valid.sum() if self.avg_non_ignore else label.new_tensor(
                label.numel())
            return count.float()
        if self.loss_class_weight.device != label.device:
            self.loss_class_weight = self.loss_class_weight.to(label.device)
        weights = self.loss_class_weight[label.masked_fill(~valid, 0)]
        return (weights * valid).sum()

    def sample(self, seg_logit: Tensor, seg_label: Tensor) -> Tensor:
        """Return the RDD weight of every pixel.

        Args:
            seg_logit (Tensor): Student logits at the label size, (N, C, H, W).
            seg_label (Tensor): Labels, (N, 1, H, W).

        Returns:
            Tensor: Weights, (N, H, W), float32, without gradient.
        """
        with torch.no_grad():
            return self.distiller.pixel_weight(self, seg_logit.detach(),
                                               seg_label.squeeze(1))
