# Copyright (c) mmrdd contributors. All rights reserved.
"""A student head's loss on a batch with two label maps per image."""
from typing import Callable, Dict, List

from mmseg.structures import SegDataSample
from torch import Tensor, nn

from .rdd_seg_mixup import MIX_LABEL_KEY, MIX_LAMBDA_KEY


def _with_label(sample: SegDataSample, key: str) -> SegDataSample:
    """A shallow copy of ``sample`` whose ``gt_sem_seg`` is field ``key``."""
    out = SegDataSample(metainfo=sample.metainfo)
    for name in sample.keys():
        out.set_field(sample.get(name), name)
    out.gt_sem_seg = sample.get(key)
    return out


class RDDMixedLabelLoss:
    """``lam * L(S, y) + (1 - lam) * L(S, y')`` with the head's own loss.

    Installed in place of a student head's ``loss_by_feat`` (see
    :func:`install_mixed_label_loss`). A batch without ``gt_sem_seg_mix``
    (mixup off) goes to the original ``loss_by_feat`` unchanged. A mixed
    batch (:class:`~mmrdd.models.RDDSegMixup`) is scored twice on the same
    logits: once against the partners' maps ``y'``, then against the own
    maps ``y``, and every entry of the two loss dicts (losses and
    ``acc_seg``) is combined with the batch's ``lam``. Each term is exactly
    the head's loss without mixup: its loss types, class weights,
    ``avg_non_ignore`` and its RDD sampler, which computes RDD's weights
    for that label map (TFE's teacher-only weight is the same for both;
    TSE's hard pixels are those of the map's own true classes). The own
    maps go last, so the step record keeps their RDD weights and
    statistics (logged, and read by difficulty-weighted KD).

    Args:
        loss_by_feat (Callable): The head's original bound method.
    """

    def __init__(self, loss_by_feat: Callable) -> None:
        self.loss_by_feat = loss_by_feat

    def __call__(self, seg_logits: Tensor,
                 batch_data_samples: List[SegDataSample]) -> Dict:
        if MIX_LABEL_KEY not in batch_data_samples[0]:
            return self.loss_by_feat(seg_logits, batch_data_samples)
        lams = {s.metainfo[MIX_LAMBDA_KEY] for s in batch_data_samples}
        if len(lams) != 1:
            raise ValueError(
                'a mixup batch must share one mixing weight, got '
                f'{sorted(lams)}: picking among mixup candidates of several '
                'draws is not supported.')
        lam = lams.pop()
        partners = self.loss_by_feat(
            seg_logits,
            [_with_label(s, MIX_LABEL_KEY) for s in batch_data_samples])
        own = self.loss_by_feat(seg_logits, batch_data_samples)
        return {k: lam * own[k] + (1.0 - lam) * partners[k] for k in own}


def install_mixed_label_loss(segmentor: nn.Module) -> List[str]:
    """Wrap ``loss_by_feat`` of each decode/auxiliary head of a segmentor.

    Args:
        segmentor (nn.Module): An MMSeg segmentor (the student).

    Returns:
        list[str]: The wrapped heads' names.
    """
    wrapped = []
    for prefix in ('decode_head', 'auxiliary_head'):
        heads = getattr(segmentor, prefix, None)
        if heads is None:
            continue
        heads = heads if isinstance(heads, nn.ModuleList) else [heads]
        for i, head in enumerate(heads):
            if not isinstance(head.loss_by_feat, RDDMixedLabelLoss):
                head.loss_by_feat = RDDMixedLabelLoss(head.loss_by_feat)
            wrapped.append(prefix if len(heads) == 1 else f'{prefix}.{i}')
    return wrapped
