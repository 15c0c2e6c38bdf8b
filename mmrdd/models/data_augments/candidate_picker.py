# Copyright (c) mmrdd contributors. All rights reserved.
"""CutMixPick for segmentation distillation: keep the best candidates."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmrazor.registry import TASK_UTILS
from mmseg.structures import SegDataSample
from torch import Tensor

from mmrdd.arg_checks import check_choice, is_int, is_number
from mmrdd.functional.distill import match_logit_sizes
from mmrdd.functional.kd_pick import PICK_CRITERIA, pick_scores, top_indices
from .batch_augments import BatchAugments


@TASK_UTILS.register_module()
class CandidatePicker:
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

    Used by :class:`~mmrdd.models.FrozenTeacherDistill` (``picker=``), and
    given data only: the algorithm draws the candidates
    (:meth:`candidates`), runs the teacher once on all of them inside the
    distiller's teacher recorders, and asks :meth:`select` for the kept
    ones (with the student's logits when :attr:`needs_student`); the
    distillation losses read the teacher's records at the kept rows
    (:func:`~mmrdd.models.utils.read_record`) and the kept candidates'
    teacher logits go to RDD's step record; nothing is recomputed. The
    student then trains on the kept images and their label maps, and RDD's
    masks act on that batch as on any other. Differences from the official
    code: the student is scored in eval mode (no dropout, BN running
    statistics, so scoring changes nothing; the official code's train-mode
    pass also updates BN statistics), the student trains on the kept batch
    only (the official code adds it to a KD term on the unaugmented batch),
    and the temperature is RDD's KD temperature (1) rather than the
    classification KD's 4.

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
            ``dict(type='SegCutMix', prob=1.0, alpha=1.0)``, the paper's
            CutMix on every sample.
    """

    def __init__(
            self,
            pool: int = 2,
            criterion: str = 'entropy',
            tau: float = 1.0,
            augments: Optional[Union[dict, Sequence[dict]]] = None) -> None:
        if not is_int(pool) or pool < 2:
            raise ValueError(f'CandidatePicker: pool must be an int >= 2 '
                             f'(candidate batches per step), got {pool!r}.')
        check_choice('CandidatePicker', 'criterion', criterion, PICK_CRITERIA)
        if not is_number(tau) or tau <= 0:
            raise ValueError(f'CandidatePicker: tau must be > 0, got '
                             f'{tau!r}.')
        if augments is None:
            augments = dict(type='SegCutMix', prob=1.0, alpha=1.0)
        if isinstance(augments, dict):
            augments = [augments]
        self.augments = BatchAugments(augments)
        if any(
                getattr(a, 'mixes_label_maps', False)
                for a in self.augments.augments):
            raise ValueError(
                'CandidatePicker: the candidates must keep one label map '
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

    @property
    def needs_student(self) -> bool:
        """Whether :meth:`select` needs the student's logits (``'kl'``)."""
        return self.criterion == 'kl'

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

    def select(self,
               teacher_logits: Tensor,
               student_logits: Optional[Tensor] = None,
               align_corners: bool = False,
               num: Optional[int] = None) -> Tensor:
        """The candidates to keep: the ``num`` best by the criterion.

        Args:
            teacher_logits (Tensor): Teacher main-head logits of every
                candidate, (M, C, h, w).
            student_logits (Tensor, optional): The student's main-head
                logits, eval mode, for ``'kl'``. Defaults to None.
            align_corners (bool): Of the teacher head, for the resize of
                the student's logits. Defaults to False.
            num (int, optional): How many to keep. Defaults to None
                (``M // pool``, the batch size).

        Returns:
            Tensor: (num, ) int64 indices, best first.
        """
        num = teacher_logits.shape[0] // self.pool if num is None else num
        return top_indices(
            self.scores(teacher_logits, student_logits, align_corners), num)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(pool={self.pool}, '
                f'criterion={self.criterion!r}, tau={self.tau}, '
                f'augments={self.augments})')


#: the name of mmrdd 0.2
TASK_UTILS.register_module(name='RDDCandidatePicker', module=CandidatePicker)
