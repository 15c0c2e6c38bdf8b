# Copyright (c) mmrdd contributors. All rights reserved.
"""Teacher-Student Evaluated difficulty (TSE-RDD), stage 2 of RDD."""
import logging
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmrazor.registry import TASK_UTILS
from torch import Tensor

from mmrdd.arg_checks import check_choice, is_int, is_number
from mmrdd.functional import (COMBINE_MODES, class_pixel_counts,
                              combine_hard_masks, gt_class_prob,
                              keep_starved_classes, ohem_hard_mask,
                              scaled_min_kept, selected_mean_weight)
from mmrdd.structures import RDDHeadSpec, RDDHeadWeights, RDDStepRecord
from .difficulty_estimator import DifficultyEstimator

#: The rows of the per-class counts of :meth:`RDDTSEDifficulty.forward`.
COUNT_ROWS = ('valid', 'kept', 'hard_student', 'hard_both')


@TASK_UTILS.register_module()
class RDDTSEDifficulty(DifficultyEstimator):
    """Pixels on which teacher and student disagree about difficulty.

    Stage 2 of Relative Difficulty Distillation (Liang et al., SCIS 2024,
    arXiv:2407.03719). Teacher and student each mark their hard pixels with
    the OHEM rule on the probability of the ground-truth class, and the
    student learns where the two disagree:

    .. math::
        q_M(p) = P_M(y(p), p), \\quad
        \\theta_M = \\max(thresh, q_M^{(k)}), \\quad
        hard_M = valid \\wedge (q_M \\le \\theta_M), \\quad
        mask = hard_S \\oplus hard_T

    where :math:`q^{(k)}` is the k-th smallest ``q`` over the valid pixels of
    the batch (``k = min_kept``; with fewer valid pixels every valid pixel is
    hard). The task loss becomes the (class-weighted) cross entropy averaged
    over the selected pixels. ``class_weight`` is a non-persistent buffer:
    it moves with the model and is not in any state dict.

    Args:
        thresh (float): OHEM probability threshold, in (0, 1).
            Defaults to 0.7.
        min_kept (int): Minimum number of hard pixels per batch (the
            reference uses 100000 for a GPU batch of 4 crops of 512x1024;
            scale it with the number of pixels). Defaults to 100000.
        mode (str): How the two hard sets combine: ``'xor'`` (RDD),
            ``'or'``, ``'and'``, or ``'student'`` (plain OHEM on the student).
            Defaults to ``'xor'``.
        class_weight (Sequence[float], optional): Per-class weights of the
            stage-2 cross entropy (the reference uses the 19 Cityscapes
            weights). They multiply the student loss's own class weights.
            Defaults to None.
        min_class_share (float, optional): An option of ours, not in the
            paper (mode ``'xor'`` only): in each batch, a class of which
            XOR keeps fewer than this share of its valid pixels also keeps
            its pixels hard for both models, see
            :func:`~mmrdd.functional.keep_starved_classes`. Defaults to None
            (off: the reference's XOR).
    """

    count_rows = COUNT_ROWS

    def __init__(self,
                 thresh: float = 0.7,
                 min_kept: int = 100000,
                 mode: str = 'xor',
                 class_weight: Optional[Sequence[float]] = None,
                 min_class_share: Optional[float] = None) -> None:
        super().__init__()
        if not is_number(thresh) or not 0.0 < float(thresh) < 1.0:
            raise ValueError('RDDTSEDifficulty: thresh must be in (0, 1), a '
                             f'probability such as 0.7, got {thresh!r}.')
        if not is_int(min_kept) or min_kept < 1:
            raise ValueError(f'RDDTSEDifficulty: min_kept must be an int >= '
                             f'1 (hard pixels per batch), got {min_kept!r}.')
        check_choice('RDDTSEDifficulty', 'mode', mode, COMBINE_MODES)
        if min_class_share is not None:
            if not is_number(min_class_share) or \
                    not 0.0 < float(min_class_share) <= 1.0:
                raise ValueError(
                    'RDDTSEDifficulty: min_class_share must be None (off) or '
                    'a share of a class\'s valid pixels in (0, 1], such as '
                    f'0.05, got {min_class_share!r}.')
            if mode != 'xor':
                raise ValueError(
                    'RDDTSEDifficulty: min_class_share keeps the pixels hard '
                    'for both models, which only mode \'xor\' drops; mode '
                    f'{mode!r} keeps them already (or ignores the teacher). '
                    'Remove min_class_share or set mode=\'xor\'.')
            min_class_share = float(min_class_share)
        self.thresh = float(thresh)
        self.min_kept = min_kept
        self.mode = mode
        self.min_class_share = min_class_share
        weight = None if class_weight is None else torch.tensor(
            class_weight, dtype=torch.float32)
        if weight is not None and (weight.dim() != 1
                                   or not bool(torch.isfinite(weight).all())
                                   or bool((weight < 0).any())):
            raise ValueError('RDDTSEDifficulty: class_weight must be a flat '
                             'list of finite, non-negative numbers.')
        self.register_buffer('class_weight', weight, persistent=False)
        self._min_kept_checked = False

    def check_num_classes(self, num_classes: int) -> None:
        """Raise unless ``class_weight`` has one entry per class."""
        if self.class_weight is not None and \
                self.class_weight.numel() != num_classes:
            raise ValueError(
                f'RDDTSEDifficulty: class_weight has '
                f'{self.class_weight.numel()} entries but the model predicts '
                f'{num_classes} classes.')

    def hard_masks(self,
                   student_logits: Tensor,
                   teacher_logits: Optional[Tensor],
                   label: Tensor,
                   ignore_index: int,
                   align_corners: bool = False,
                   min_kept: Optional[int] = None) -> dict:
        """The OHEM hard sets of student and teacher and their combination.

        Args:
            student_logits (Tensor): (N, C, H, W) at the label size.
            teacher_logits (Tensor, optional): (N, C, h, w), at the label
                size or smaller (then resized bilinearly, one image at a
                time, see :func:`~mmrdd.functional.gt_class_prob`); unused
                (may be None) in mode ``'student'``.
            label (Tensor): (N, H, W) ground truth.
            ignore_index (int): The label to ignore.
            align_corners (bool): ``align_corners`` of the teacher head,
                for the resize. Defaults to False.
            min_kept (int, optional): Overrides ``min_kept`` for this call
                (e.g. per image when visualising one image of a training
                batch). Defaults to None.

        Returns:
            dict[str, Tensor]: ``valid``, ``hard_student``, ``hard_teacher``
            (``hard_student`` again in mode ``'student'``) and ``mask``, the
            selection (with ``min_class_share``, XOR plus the pixels hard for
            both of the starved classes), each (N, H, W) bool.
        """
        min_kept = self.min_kept if min_kept is None else min_kept
        valid = label != ignore_index
        hard_student = ohem_hard_mask(
            gt_class_prob(student_logits, label, ignore_index, valid), valid,
            self.thresh, min_kept)
        if self.mode == 'student':
            return dict(
                valid=valid,
                hard_student=hard_student,
                hard_teacher=hard_student,
                mask=hard_student)
        hard_teacher = ohem_hard_mask(
            gt_class_prob(teacher_logits, label, ignore_index, valid,
                          align_corners), valid, self.thresh, min_kept)
        mask = combine_hard_masks(hard_student, hard_teacher, self.mode)
        if self.min_class_share is not None:
            mask = keep_starved_classes(mask, hard_student, hard_teacher,
                                        label, valid, student_logits.shape[1],
                                        self.min_class_share)
        return dict(
            valid=valid,
            hard_student=hard_student,
            hard_teacher=hard_teacher,
            mask=mask)

    def forward(self, student_logits: Tensor, label: Tensor, head: RDDHeadSpec,
                record: RDDStepRecord) -> RDDHeadWeights:
        """The TSE weights of one student head.

        Args:
            student_logits (Tensor): The head's logits at the label size,
                (N, C, H, W).
            label (Tensor): Labels, (N, H, W).
            head (RDDHeadSpec): The head: ``ignore_index``,
                ``teacher_head`` (its TSE pair), the divisor rule and class
                weights of its CE, ``is_main``.
            record (RDDStepRecord): This step's record (teacher logits).

        Returns:
            RDDHeadWeights: The weight that turns MMSeg's CE reduction into
            the class-weighted mean over the selected pixels (exactly 0 when
            nothing is selected), the selection as the map, and for the main
            head ``tse_selected``, ``tse_hard_student`` and (not in mode
            ``'student'``) ``tse_hard_teacher``, fractions of the valid
            pixels, and the per-class counts (rows :data:`COUNT_ROWS`, see
            :func:`~mmrdd.functional.class_pixel_counts`).
        """
        teacher = None if self.mode == 'student' else \
            record.teacher_logits[head.teacher_head]
        m = self.hard_masks(student_logits, teacher, label, head.ignore_index,
                            record.teacher.align_corners)
        weight = selected_mean_weight(m['mask'], label,
                                      head.loss_divisor(label, m['valid']),
                                      self.class_weight,
                                      head.loss_class_weight)
        stats, counts = {}, None
        if head.is_main and not self._min_kept_checked:
            self._check_min_kept(m['valid'])
        if head.is_main:
            n_valid = m['valid'].sum().clamp_min(1)
            stats['tse_selected'] = m['mask'].sum() / n_valid
            stats['tse_hard_student'] = m['hard_student'].sum() / n_valid
            if self.mode != 'student':
                stats['tse_hard_teacher'] = m['hard_teacher'].sum() / n_valid
            counts = class_pixel_counts(label, m['valid'], [
                m['mask'], m['hard_student'],
                m['hard_student'] & m['hard_teacher']
            ], head.num_classes)
        return RDDHeadWeights(weight, m['mask'], stats, counts)

    def _check_min_kept(self, valid: Tensor) -> None:
        """Warn once per run when ``min_kept`` reaches the valid pixels.

        Then every valid pixel is hard for both models, XOR selects nothing
        and the student's task loss is 0 on every TSE step. Costs one
        host-device synchronisation, on the first TSE step only.
        """
        self._min_kept_checked = True
        n_valid = int(valid.sum())
        if self.min_kept < n_valid or n_valid == 0:
            # a batch without labels says nothing of min_kept (the
            # selection watch names that cause)
            return
        n, h, w = valid.shape
        scaled = scaled_min_kept(n, h, w)
        print_log(
            f'RDDTSEDifficulty: min_kept={self.min_kept} >= the {n_valid} '
            f'valid label pixels of this batch ({n} x {h} x {w}): every '
            'valid pixel is hard for teacher and student, so '
            f'mode={self.mode!r} selects ' +
            ('nothing and the task loss is 0 (the student learns from '
             'the distillation loss alone)'
             if self.mode in ('xor', ) else 'every valid pixel (no mining)') +
            '. Scale min_kept with the batch: the reference keeps 100000 '
            'of 4 x 512 x 1024 label pixels per GPU, i.e. min_kept = '
            f'100000 / (4 * 512 * 1024) * B * H * W = {scaled} here '
            f'(set model.distiller.tse.min_kept={scaled}).',
            logger='current',
            level=logging.WARNING)

    def distill_weight(self, out: RDDHeadWeights, size: Sequence[int],
                       align_corners: bool) -> Tensor:
        """The selection as the weight of a distillation loss at ``size``.

        The share of selected pixels in each cell of ``size``, normalised to
        mean 1 (all 0 if nothing is selected), so the weighted loss is its
        mean over the selected pixels.

        Args:
            out (RDDHeadWeights): The main head's weights of this step.
            size (Sequence[int]): The distillation loss's spatial size.
            align_corners (bool): Unused (the share is an average pool).

        Returns:
            Tensor: (N, *size) float32.
        """
        share = F.adaptive_avg_pool2d(out.distill_map[:, None].float(),
                                      tuple(size))[:, 0]
        return share / share.mean().clamp_min(torch.finfo(share.dtype).tiny)
