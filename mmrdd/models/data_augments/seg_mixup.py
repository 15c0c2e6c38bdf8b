# Copyright (c) mmrdd contributors. All rights reserved.
"""Teacher-labelled mixup as an MMSeg batch augmentation."""
from typing import List, Optional, Tuple

from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor

from mmrdd.functional.mixup import mix_images, mixup_params
from .mix_batch_augment import MixBatchAugment

MIX_LABEL_KEY = 'gt_sem_seg_mix'
MIX_LAMBDA_KEY = 'mix_lambda'


@MODELS.register_module()
class SegMixup(MixBatchAugment):
    """Mixup on a preprocessed segmentation batch, both label maps kept.

    Zhang et al., "mixup", ICLR 2018; teacher-labelled for KD as in Wang et
    al., "Knowledge Distillation Thrives on Data Augmentation", arXiv
    2012.02909 (its code: ``mixup`` in ``helper/loops.py``, one ``lam`` per
    batch). Each sample ``i`` that is mixed (probability ``prob``) becomes

    .. math::
        x'_i = \\lambda x_i + (1 - \\lambda) x_{j(i)}, \\qquad
        \\lambda \\sim Beta(\\alpha, \\alpha)

    with one ``lambda`` for the batch and partners ``j`` on one random cycle
    (:func:`mmrdd.functional.mixup.mixup_params`). The teacher labels the
    blended image (the KD loss reads its logits of ``x'``). Label maps are
    not blended: ``gt_sem_seg`` stays ``y_i`` and the partner's map
    ``y_j`` is added as the data field ``gt_sem_seg_mix`` (an unmixed
    sample carries its own map there), with ``lambda`` in the metainfo
    ``mix_lambda``. The task loss is then

    .. math::
        L_{task} = \\lambda L_{head}(S, y) + (1 - \\lambda) L_{head}(S, y')

    each term the student head's own loss with its RDD weights, computed by
    :class:`~mmrdd.models.MixedLabelLoss`, which
    :class:`~mmrdd.models.FrozenTeacherDistill` uses when its data
    preprocessor runs a batch augmentation with ``mixes_label_maps = True``
    (and then calls :meth:`enable_label_maps`). Elsewhere (a plain MMSeg
    model) the second map would be ignored, so this augmentation raises
    until then (:attr:`label_loss_installed`).

    Randomness as :class:`~mmrdd.models.SegCutMix`: torch's global RNG
    with ``seed=None``, else a private CPU generator seeded with
    ``seed + rank``.

    Args:
        prob (float): Probability that a sample is mixed. Defaults to 1.0.
        alpha (float): Beta parameter of ``lambda``, > 0; 1 draws it
            uniformly in (0, 1) (mixup's and the KD paper's default).
            Defaults to 1.0.
        seed (int, optional): Seed of a private generator. Defaults to None.
    """

    #: the task loss must see ``gt_sem_seg_mix`` (read by the algorithm)
    mixes_label_maps = True

    def __init__(self,
                 prob: float = 1.0,
                 alpha: float = 1.0,
                 seed: Optional[int] = None) -> None:
        super().__init__(prob, alpha, seed)
        self.label_loss_installed = False

    def enable_label_maps(self) -> None:
        """Declare that the task loss reads both label maps (called by the
        algorithm that computes it)."""
        self.label_loss_installed = True

    def __call__(
        self, inputs: Tensor, data_samples: List[SegDataSample]
    ) -> Tuple[Tensor, List[SegDataSample]]:
        """Blend ``inputs`` (N, C, H, W); add the partners' label maps.

        Returns:
            tuple[Tensor, list[SegDataSample]]: The mixed batch.
        """
        if not self.label_loss_installed:
            raise RuntimeError(
                'SegMixup keeps two label maps per image and needs a '
                'task loss that reads both: use it in the data_preprocessor '
                'of FrozenTeacherDistill (the RDDSingleTeacherDistill of '
                'mmrdd 0.2, which computes the loss on both maps), not in '
                'a plain MMSeg model.')
        if 'gt_sem_seg' not in data_samples[0]:
            raise KeyError('SegMixup needs gt_sem_seg in the data '
                           'samples (a training batch).')
        if MIX_LABEL_KEY in data_samples[0]:
            raise ValueError('the batch is already mixed (gt_sem_seg_mix is '
                             'set): use one SegMixup per batch.')
        params = mixup_params(inputs.shape[0], self.alpha, self.prob,
                              self.generator)
        labels = [s.gt_sem_seg.data for s in data_samples]
        for sample, j in zip(data_samples, params.partner.tolist()):
            sample.set_field(PixelData(data=labels[j]), MIX_LABEL_KEY)
            sample.set_metainfo({MIX_LAMBDA_KEY: params.lam})
        return mix_images(inputs, params.lam, params.partner), data_samples

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, alpha={self.alpha},'
                f' seed={self.seed})')


#: the name of mmrdd 0.2
MODELS.register_module(name='RDDSegMixup', module=SegMixup)
