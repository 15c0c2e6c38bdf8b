"""Teacher-Student Evaluated difficulty (TSE-RDD), stage 2 of RDD."""
from typing import Optional, Sequence, Tuple

import torch
from mmrazor.registry import TASK_UTILS
from torch import Tensor

from mmrdd.functional import (COMBINE_MODES, combine_hard_masks,
                              gt_class_prob, ohem_hard_mask)


@TASK_UTILS.register_module()
class RDDTSEDifficulty:
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
    over the selected pixels.

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
    """

    def __init__(self,
                 thresh: float = 0.7,
                 min_kept: int = 100000,
                 mode: str = 'xor',
                 class_weight: Optional[Sequence[float]] = None) -> None:
        if not 0.0 < float(thresh) < 1.0:
            raise ValueError(f'RDDTSEDifficulty: thresh must be in (0, 1), '
                             f'got {thresh}.')
        if isinstance(min_kept, bool) or not isinstance(min_kept, int) \
                or min_kept < 1:
            raise ValueError(f'RDDTSEDifficulty: min_kept must be an int >= '
                             f'1 (hard pixels per batch), got {min_kept!r}.')
        if mode not in COMBINE_MODES:
            raise ValueError(f'RDDTSEDifficulty: mode must be one of '
                             f'{COMBINE_MODES}, got {mode!r}.')
        self.thresh = float(thresh)
        self.min_kept = min_kept
        self.mode = mode
        self.class_weight = None if class_weight is None else torch.tensor(
            class_weight, dtype=torch.float32)
        if self.class_weight is not None and (
                self.class_weight.dim() != 1 or
                not bool(torch.isfinite(self.class_weight).all()) or
                bool((self.class_weight < 0).any())):
            raise ValueError('RDDTSEDifficulty: class_weight must be a flat '
                             'list of finite, non-negative numbers.')

    def class_weight_on(self, device: torch.device,
                        num_classes: int) -> Optional[Tensor]:
        """``class_weight`` on ``device``, checked against ``num_classes``."""
        if self.class_weight is None:
            return None
        if self.class_weight.numel() != num_classes:
            raise ValueError(
                f'RDDTSEDifficulty: class_weight has '
                f'{self.class_weight.numel()} entries but the model predicts '
                f'{num_classes} classes.')
        if self.class_weight.device != device:
            self.class_weight = self.class_weight.to(device)
        return self.class_weight

    def __call__(self,
                 student_logits: Tensor,
                 teacher_logits: Optional[Tensor],
                 label: Tensor,
                 ignore_index: int,
                 align_corners: bool = False,
                 valid: Optional[Tensor] = None
                 ) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Select the pixels the student learns from.

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
            valid (Tensor, optional): ``label != ignore_index`` if the
                caller has it. Defaults to None (computed here).

        Returns:
            tuple: the selection mask, the student's and the teacher's hard
            pixels (the latter None in mode ``'student'``), each (N, H, W)
            bool.
        """
        if valid is None:
            valid = label != ignore_index
        hard_student = ohem_hard_mask(
            gt_class_prob(student_logits, label, ignore_index, valid), valid,
            self.thresh, self.min_kept)
        if self.mode == 'student':
            return hard_student, hard_student, None
        hard_teacher = ohem_hard_mask(
            gt_class_prob(teacher_logits, label, ignore_index, valid,
                          align_corners), valid, self.thresh, self.min_kept)
        return combine_hard_masks(hard_student, hard_teacher,
                                  self.mode), hard_student, hard_teacher
