# Copyright (c) mmrdd contributors. All rights reserved.
"""CutMixPick for segmentation distillation: keep the best candidates."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmrazor.models.task_modules.recorder import ParameterRecorder
from mmrazor.registry import TASK_UTILS
from mmseg.structures import SegDataSample
from torch import Tensor

from mmrdd.arg_checks import check_choice, is_int, is_number
from mmrdd.functional.distill import match_logit_sizes
from mmrdd.functional.kd_pick import (PICK_CRITERIA, index_batch, pick_scores,
                                      top_indices)
from ..distillers.rdd_distiller import main_head, run_heads, segmentor_heads
from .rdd_seg_data_preprocessor import RDDBatchAugments


def keep_recorded(distiller, keep: Tensor, num: int) -> None:
    """Keep the picked candidates in everything the teacher pass recorded.

    Every teacher recorder's ``data_buffer`` (MMRazor's public list, edited
    in place, so method/function recorders keep appending to it) and every
    delivery's ``data_queue`` is indexed along the batch dimension with
    :func:`~mmrdd.functional.kd_pick.index_batch`; parameter recorders hold
    no batch and are left alone.

    Args:
        distiller (ConfigurableDistiller): The algorithm's distiller.
        keep (Tensor): (K, ) indices of the kept candidates.
        num (int): The number of candidates the teacher saw.
    """
    for recorder in distiller.teacher_recorders.recorders.values():
        if isinstance(recorder, ParameterRecorder):
            continue
        buffer = recorder.data_buffer
        buffer[:] = [index_batch(item, keep, num) for item in buffer]
    for delivery in distiller.deliveries.deliveries.values():
        queue = delivery.data_queue
        items = [index_batch(item, keep, num) for item in queue]
        queue.clear()
        queue.extend(items)


@TASK_UTILS.register_module()
class RDDCandidatePicker:
    """Draw ``pool`` augmented batches, keep the B most informative images.

    CutMixPick of Wang et al., "What Makes a 'Good' Data Augmentation in
    Knowledge Distillation -- A Statistical Perspective", NeurIPS 2022
    (arXiv 2012.02909 v3; v1, "Knowledge Distillation Thrives on Data
    Augmentation", picks by the teacher-student KL "based on the idea of
    active learning"). The rule follows the official code
    (github.com/MingSun-Tse/Good-DA-in-KD, ``helper/loops.py``,
    ``cutmix_pick`` and ``get_entropy_batch``): run the augmentation
    ``pool`` times on the batch (``--mix_n_run 2``), score all ``pool x B``
    candidates with the models in no-grad mode, sort, and keep the B
    highest (``--n_pick`` = the batch size); a source image may be kept
    twice or not at all. Scores, per candidate image:

    .. math::
        s_{kl} = \\frac{1}{hw} \\sum_p KL(P_\\tau(T)_p \\,\\|\\, P_\\tau(S)_p),
        \\qquad
        s_{entropy} = \\frac{1}{hw} \\sum_p H(P_\\tau(T)_p)

    the paper's per-image KL (v1, the code's default ``kld``) and teacher
    entropy (the NeurIPS "CutMixPick (T. ent.)") reduced from pixels to an
    image by the mean over the h*w cells of the teacher's main-head logits
    (the student's are resized to that size for ``'kl'``).

    Used by :class:`~mmrdd.models.RDDSingleTeacherDistill` (``picker=``):
    the teacher runs once on all candidates inside the distiller's teacher
    recorders, the records are cut to the kept candidates
    (:func:`keep_recorded`) and the kept candidates' teacher logits go to
    RDD's step record; nothing is recomputed. The student then trains on
    the kept images and their label maps, and RDD's masks act on that
    batch as on any other. Differences from the official code: the student
    is scored in eval mode (no dropout, BN running statistics, so scoring
    changes nothing; the official code's train-mode pass also updates BN
    statistics), the student trains on the kept batch only (the official
    code adds it to a KD term on the unaugmented batch), and the
    temperature is RDD's KD temperature (1) rather than the classification
    KD's 4.

    Args:
        pool (int): Candidate batches drawn per step, >= 2. Defaults to 2
            (the official ``--mix_n_run 2``).
        criterion (str): ``'entropy'`` (teacher only) or ``'kl'`` (one more
            no-grad student pass). Defaults to ``'entropy'``.
        tau (float): Temperature of the softmaxes in the score, > 0.
            Defaults to 1.0.
        augments (dict | list[dict]): The batch augmentation(s) that draw
            one candidate batch, built in MMSeg's ``MODELS``; they must keep
            one label map per image (not mixup). Defaults to
            ``dict(type='RDDSegCutMix', prob=1.0, alpha=1.0)``, the paper's
            CutMix on every sample.
    """

    def __init__(
            self,
            pool: int = 2,
            criterion: str = 'entropy',
            tau: float = 1.0,
            augments: Optional[Union[dict, Sequence[dict]]] = None) -> None:
        if not is_int(pool) or pool < 2:
            raise ValueError(f'RDDCandidatePicker: pool must be an int >= 2 '
                             f'(candidate batches per step), got {pool!r}.')
        check_choice('RDDCandidatePicker', 'criterion', criterion,
                     PICK_CRITERIA)
        if not is_number(tau) or tau <= 0:
            raise ValueError(f'RDDCandidatePicker: tau must be > 0, got '
                             f'{tau!r}.')
        if augments is None:
            augments = dict(type='RDDSegCutMix', prob=1.0, alpha=1.0)
        if isinstance(augments, dict):
            augments = [augments]
        self.augments = RDDBatchAugments(augments)
        if any(
                getattr(a, 'mixes_label_maps', False)
                for a in self.augments.augments):
            raise ValueError(
                'RDDCandidatePicker: the candidates must keep one label map '
                'per image (CutMix), not mixup: the kept images would come '
                'from draws with different mixing weights.')
        self.pool = pool
        self.criterion = criterion
        self.tau = float(tau)

    def candidates(
        self, inputs: Tensor, data_samples: List[SegDataSample]
    ) -> Tuple[Tensor, List[SegDataSample]]:
        """``pool`` augmented copies of the batch, concatenated.

        Returns:
            tuple[Tensor, list[SegDataSample]]: (pool * N, C, H, W) images
            and their ``pool * N`` data samples (copies), in draw order.
        """
        images, samples = [], []
        for _ in range(self.pool):
            x, s = self.augments(inputs, copy.deepcopy(data_samples))
            images.append(x)
            samples.extend(s)
        return torch.cat(images), samples

    @staticmethod
    def student_logits(algorithm, inputs: Tensor) -> Tensor:
        """The student's main-head logits, eval mode, no gradient."""
        student = algorithm.student
        training = student.training
        student.eval()
        try:
            with torch.no_grad():
                out = run_heads(student, student.extract_feat(inputs))
        finally:
            student.train(training)
        return out[getattr(algorithm.distiller, 'student_main', None)
                   or main_head(student)]

    def scores(self,
               teacher_logits: Tensor,
               student_logits: Optional[Tensor] = None,
               align_corners: bool = False) -> Tensor:
        """The criterion of every candidate.

        Args:
            teacher_logits (Tensor): Teacher main-head logits, (M, C, h, w).
            student_logits (Tensor, optional): Student main-head logits,
                (M, C, h', w'), resized to the teacher's size; needed for
                ``'kl'``. Defaults to None.
            align_corners (bool): Of that resize. Defaults to False.

        Returns:
            Tensor: (M, ) float32.
        """
        if self.criterion == 'kl':
            if student_logits is None:
                raise ValueError("criterion 'kl' needs the student logits.")
            student_logits, teacher_logits, _ = match_logit_sizes(
                student_logits,
                teacher_logits,
                resize_to='teacher',
                align_corners=align_corners)
        return pick_scores(teacher_logits, student_logits, self.criterion,
                           self.tau)

    def __call__(
        self, algorithm, inputs: Tensor, data_samples: List[SegDataSample]
    ) -> Tuple[Tensor, List[SegDataSample], Dict[str, Tensor]]:
        """Pick the training batch; the teacher pass is recorded on it.

        Args:
            algorithm (RDDSingleTeacherDistill): The algorithm (its teacher,
                student and distiller).
            inputs (Tensor): The preprocessed batch, (N, C, H, W).
            data_samples (list[SegDataSample]): Its N samples.

        Returns:
            tuple: The kept images (N, C, H, W), their data samples, and
            the teacher's logits on them by head name (as
            ``teacher_forward`` returns them).
        """
        num = inputs.shape[0]
        images, samples = self.candidates(inputs, data_samples)
        distiller = algorithm.distiller
        # RDD's configured main head, else the teacher's prediction head
        main = getattr(distiller, 'teacher_main', None) or main_head(
            algorithm.teacher)
        align_corners = segmentor_heads(algorithm.teacher,
                                        main.split('.')[0])[main].align_corners
        with distiller.teacher_recorders, distiller.deliveries:
            teacher = algorithm.teacher_forward(images)
        student = self.student_logits(algorithm, images) \
            if self.criterion == 'kl' else None
        keep = top_indices(
            self.scores(teacher[main], student, align_corners), num)
        keep_recorded(distiller, keep, images.shape[0])
        teacher = {k: v[keep.to(v.device)] for k, v in teacher.items()}
        return (images[keep.to(images.device)],
                [samples[i] for i in keep.tolist()], teacher)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(pool={self.pool}, '
                f'criterion={self.criterion!r}, tau={self.tau}, '
                f'augments={self.augments})')
