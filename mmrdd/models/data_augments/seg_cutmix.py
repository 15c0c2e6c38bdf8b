# Copyright (c) mmrdd contributors. All rights reserved.
"""Teacher-labelled CutMix as an MMSeg batch augmentation."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor

from mmrdd.functional.cutmix import box_masks, cutmix_boxes, paste_boxes
from .mix_batch_augment import MixBatchAugment


@MODELS.register_module()
class SegCutMix(MixBatchAugment):
    """CutMix on a preprocessed segmentation batch, labels included.

    Wang et al., "Knowledge Distillation Thrives on Data Augmentation",
    arXiv 2012.02909, show that KD profits from strong mixing augmentation
    because the teacher labels whatever the student sees. In a distillation
    algorithm the data preprocessor runs once, before the teacher and the
    student, so with this batch augmentation both see the mixed images and
    the KD targets follow them; the task loss uses the mixed ``gt_sem_seg``.
    The paper's "pick" step (CutMixPick: keep the most informative of
    several mixed copies) needs model outputs, so it is an option of the
    algorithm: :class:`~mmrdd.models.CandidatePicker` (``picker=`` of
    :class:`~mmrdd.models.FrozenTeacherDistill`), which draws its
    candidates with this class.

    Each sample is mixed with probability ``prob``: a box of area ratio
    ``1 - lam``, ``lam ~ Beta(alpha, alpha)``, is copied from a partner (one
    random cycle through the batch) into the image and into its label map,
    as :func:`mmrdd.functional.cutmix.seg_cutmix` does. Pixels are copied, so
    labels stay exact and ignored pixels (255, padding) travel with theirs.

    Randomness: with ``seed=None`` boxes come from torch's global RNG, which
    MMEngine seeds from the config's ``randomness=dict(seed=...)`` (per rank
    with ``diff_rank_seed=True``). With an integer ``seed`` they come from a
    private CPU ``torch.Generator`` seeded with ``seed + rank`` at the first
    call, independent of everything else drawing from the global RNG. Its
    state is not checkpointed: a resumed run restarts the box sequence.

    Use it through :class:`BatchAugSegDataPreProcessor` (MMSeg 1.2.2's
    ``SegDataPreProcessor`` stores ``batch_augments`` unbuilt and cannot call
    a config list)::

        data_preprocessor = dict(
            type='mmseg.BatchAugSegDataPreProcessor', ...,
            batch_augments=[dict(type='SegCutMix', prob=0.5, alpha=1.0)])

    Args:
        prob (float): Probability that a sample is mixed. Defaults to 0.5.
        alpha (float): Beta parameter of the box area, > 0; 1 draws the area
            uniformly in (0, 1). Defaults to 1.0.
        seed (int, optional): Seed of a private generator (see above).
            Defaults to None (torch's global RNG).
        seg_keys (Sequence[str]): ``PixelData`` fields of the data samples
            mixed like the labels. Defaults to ('gt_sem_seg', ).
    """

    def __init__(
        self,
        prob: float = 0.5,
        alpha: float = 1.0,
        seed: Optional[int] = None,
        seg_keys: Sequence[str] = ('gt_sem_seg', )
    ) -> None:
        super().__init__(prob, alpha, seed)
        self.seg_keys = tuple(seg_keys)

    def __call__(
        self, inputs: Tensor, data_samples: List[SegDataSample]
    ) -> Tuple[Tensor, List[SegDataSample]]:
        """Mix ``inputs`` (N, C, H, W) and the samples' label maps in place.

        Returns:
            tuple[Tensor, list[SegDataSample]]: The mixed batch.
        """
        if self.prob == 0 or inputs.shape[0] < 2:
            return inputs, data_samples
        if 'gt_sem_seg' in self.seg_keys and 'gt_sem_seg' not in \
                data_samples[0]:
            raise KeyError('SegCutMix needs gt_sem_seg in the data '
                           'samples (a training batch).')
        n, _, h, w = inputs.shape
        boxes, partner = cutmix_boxes(n, (h, w), self.alpha, self.prob,
                                      self.generator)
        masks = box_masks(boxes, (h, w), inputs.device)
        for key in self.seg_keys:
            if key not in data_samples[0]:
                continue
            maps = paste_boxes(
                torch.stack([s.get(key).data for s in data_samples]), masks,
                partner)
            for sample, data in zip(data_samples, maps):
                sample.get(key).data = data
        return paste_boxes(inputs, masks, partner), data_samples

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, alpha={self.alpha},'
                f' seed={self.seed}, seg_keys={self.seg_keys})')


#: the name of mmrdd 0.2
MODELS.register_module(name='RDDSegCutMix', module=SegCutMix)
