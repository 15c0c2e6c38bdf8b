# Copyright (c) mmrdd contributors. All rights reserved.
"""The student's task loss on a batch with two label maps per image."""
from typing import Dict, List

from mmrazor.models.task_modules.recorder import RecorderManager
from mmseg.structures import SegDataSample
from torch import Tensor, nn

from ..utils import all_heads, loss_prefix
from .seg_mixup import MIX_LABEL_KEY, MIX_LAMBDA_KEY


def _with_label(sample: SegDataSample, key: str) -> SegDataSample:
    """A shallow copy of ``sample`` whose ``gt_sem_seg`` is field ``key``."""
    out = SegDataSample(metainfo=sample.metainfo)
    for name in sample.keys():
        out.set_field(sample.get(name), name)
    out.gt_sem_seg = sample.get(key)
    return out


def _first_loss(head: nn.Module, name: str) -> str:
    """The module path of a head's (first) ``loss_decode``."""
    many = isinstance(head.loss_decode, nn.ModuleList)
    return f'{name}.loss_decode' + ('.0' if many else '')


class MixedLabelLoss:
    """``lam * L(S, y) + (1 - lam) * L(S, y')`` with each head's own loss.

    For batches of :class:`~mmrdd.models.SegMixup`, which keeps each
    image's own label map ``y`` in ``gt_sem_seg`` and its partner's ``y'``
    in ``gt_sem_seg_mix``, with one ``lam`` per batch (metainfo
    ``mix_lambda``). :class:`~mmrdd.models.FrozenTeacherDistill` computes
    the student's loss as usual on ``y`` while :attr:`recorders` record
    each head's logits where its loss reads them (the inputs of its first
    ``loss_decode``, at the label size), then calls this object: each
    head's own ``loss_by_feat`` scores the same logits against ``y'``, and
    every entry of the two loss dicts (losses and ``acc_seg``) is combined
    with ``lam``. Each term is exactly the head's loss without mixup: its
    loss types, class weights, ``avg_non_ignore`` and its RDD sampler,
    which computes RDD's weights for that label map (TFE's teacher-only
    weight is the same for both; TSE's hard pixels are those of the map's
    own true classes); the step record keeps the weights and statistics of
    ``y`` (logged, and read by difficulty-weighted KD). Nothing of the
    student is replaced: the logits come from MMRazor recorders of this
    object's own, the second term from the heads' public ``loss_by_feat``.

    Args:
        student (nn.Module): The student segmentor (its heads are read, a
            recorder is attached to each head's first ``loss_decode``).
    """

    def __init__(self, student: nn.Module) -> None:
        self.heads = all_heads(student)
        self.recorders = RecorderManager({
            name: dict(type='ModuleInputs', source=_first_loss(head, name))
            for name, head in self.heads.items()
        })
        self.recorders.initialize(student)

    @staticmethod
    def is_mixed(data_samples: List[SegDataSample]) -> bool:
        """Whether the batch carries the partners' label maps."""
        return bool(data_samples) and MIX_LABEL_KEY in data_samples[0]

    def __call__(self, losses: Dict[str, Tensor],
                 data_samples: List[SegDataSample]) -> Dict[str, Tensor]:
        """Combine the losses on ``y`` with those on ``y'``.

        Args:
            losses (dict[str, Tensor]): The student's losses on ``y``, as
                MMSeg's segmentor returns them (``decode.loss_ce``, ...),
                computed while :attr:`recorders` recorded.
            data_samples (list[SegDataSample]): The mixed batch.

        Returns:
            dict[str, Tensor]: ``lam * own + (1 - lam) * partner`` for each
            head's entries; other entries unchanged.
        """
        lams = {s.metainfo[MIX_LAMBDA_KEY] for s in data_samples}
        if len(lams) != 1:
            raise ValueError(
                'a mixup batch must share one mixing weight, got '
                f'{sorted(lams)}: picking among mixup candidates of several '
                'draws is not supported.')
        lam = lams.pop()
        partners = [_with_label(s, MIX_LABEL_KEY) for s in data_samples]
        out = dict(losses)
        for name, head in self.heads.items():
            logits = self.recorders.get_recorder(name).get_record_data(0, 0)
            prefix = loss_prefix(name)
            for key, value in head.loss_by_feat(logits, partners).items():
                own = out[f'{prefix}.{key}']
                out[f'{prefix}.{key}'] = lam * own + (1.0 - lam) * value
        return out
