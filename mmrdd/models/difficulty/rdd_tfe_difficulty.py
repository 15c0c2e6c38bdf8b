# Copyright (c) mmrdd contributors. All rights reserved.
"""Teacher-Full Evaluated difficulty (TFE-RDD), stage 1 of RDD."""
from typing import Dict, Sequence, Tuple

from mmrazor.registry import TASK_UTILS
from mmseg.models.utils import resize
from torch import Tensor

from mmrdd.arg_checks import check_choice
from mmrdd.functional import TFE_DIRECTIONS, resize_map, tfe_difficulty
from mmrdd.structures import (RDDHeadSpec, RDDHeadWeights, RDDStepRecord,
                              TeacherSpec)
from .difficulty_estimator import DifficultyEstimator, TeacherView

#: Valid ``second_view`` values of :class:`RDDTFEDifficulty`.
TFE_VIEWS = ('aux', 'flip')


@TASK_UTILS.register_module()
class RDDTFEDifficulty(DifficultyEstimator):
    """Per-pixel weights from the disagreement of two teacher views.

    Stage 1 of Relative Difficulty Distillation (Liang et al., "Relative
    Difficulty Distillation for Semantic Segmentation", SCIS 2024,
    arXiv:2407.03719). The teacher alone judges difficulty: where its decode
    head ``T`` and auxiliary head ``Ta`` disagree the pixel is hard and the
    student's task loss there is down-weighted,

    .. math::
        v(p) = \\sum_c P_{Ta}(c, p) (\\log P_{Ta}(c, p) - \\log P_T(c, p)),
        \\qquad w(p) = \\exp(-v(p)) \\in (0, 1].

    The map depends on the teacher only, so it is computed once per step
    (:meth:`prepare`, after the teacher pass) and shared by every student
    head. Everything TFE does is here: which teacher heads and passes it
    needs (:meth:`teacher_heads`, :meth:`teacher_views`), the checks of the
    teacher (:meth:`check_teacher`) and the maps.

    Args:
        direction (str): ``'aux_main'`` for KL(P(Ta) || P(T)) as in the
            reference code, ``'main_aux'`` for KL(P(T) || P(Ta)) as in the
            paper's Eq. 6. Defaults to ``'aux_main'``.
        resize_logits (bool): If False (reference behaviour), ``v`` is
            computed at the logit resolution and ``w`` is resized bilinearly
            to the label size; if True the logits are resized to the label
            size first. Defaults to False.
        second_view (str): What plays ``Ta``: ``'aux'``, the teacher's
            auxiliary head (the paper); or ``'flip'`` (our extension, for
            teachers without an auxiliary head such as SegFormer): the
            teacher's main head on the horizontally flipped batch, flipped
            back, so ``v`` measures how much the teacher's prediction
            changes under a flip. Defaults to ``'aux'``.
    """

    def __init__(self,
                 direction: str = 'aux_main',
                 resize_logits: bool = False,
                 second_view: str = 'aux') -> None:
        super().__init__()
        check_choice('RDDTFEDifficulty', 'direction', direction,
                     TFE_DIRECTIONS)
        check_choice('RDDTFEDifficulty', 'second_view', second_view, TFE_VIEWS)
        self.direction = direction
        self.resize_logits = resize_logits
        self.second_view = second_view

    def teacher_heads(self, teacher: TeacherSpec) -> Tuple[str, ...]:
        """The main head, and the auxiliary view with ``second_view='aux'``.
        """
        if self.second_view == 'aux':
            return (teacher.main, teacher.aux)
        return (teacher.main, )

    def check_teacher(self, teacher: TeacherSpec) -> None:
        """Raise unless the teacher has two views to compare."""
        if self.second_view != 'aux':
            return
        if teacher.aux is None:
            raise ValueError(
                'TFE-RDD (the first switch_iter iterations) compares the '
                "teacher's main and auxiliary heads, and this teacher has no "
                'auxiliary head: set model.distiller.switch_iter=0 (TSE '
                "only), or use the teacher's flipped view, "
                "model.distiller.tfe.second_view='flip'.")
        if teacher.aux == teacher.main:
            raise ValueError(
                f'TFE-RDD compares two teacher views, but teacher_main and '
                f'teacher_aux are both {teacher.main!r}: the weight would be '
                "1 everywhere. Name another teacher_aux, or use "
                "tfe.second_view='flip'.")

    def has_second_view(self, teacher: TeacherSpec) -> bool:
        """Whether the teacher gives TFE a second view (``Ta``)."""
        return self.second_view == 'flip' or teacher.aux is not None

    def teacher_views(self, inputs: Tensor,
                      teacher: TeacherSpec) -> Dict[str, TeacherView]:
        """With ``second_view='flip'``: the main head on the flipped batch.
        """
        if self.second_view == 'flip':
            return dict(flip=(inputs.flip(-1), (teacher.main, )))
        return {}

    def prepare(self, teacher_logits: Dict[str, Tensor],
                views: Dict[str, Dict[str, Tensor]], teacher: TeacherSpec,
                label_size: Sequence[int]) -> Dict[str, Tensor]:
        """The TFE maps of this step, from the teacher's two views.

        ``Ta`` is the auxiliary head's logits (``second_view='aux'``) or the
        main head's logits on the flipped batch, flipped back
        (``'flip'``); see :meth:`maps`.

        Args:
            teacher_logits (dict[str, Tensor]): The teacher pass's logits.
            views (dict[str, dict[str, Tensor]]): The flipped pass's logits
                under ``'flip'`` (:meth:`teacher_views`).
            teacher (TeacherSpec): The teacher's heads.
            label_size (Sequence[int]): ``(H, W)`` of the label map.

        Returns:
            dict[str, Tensor]: ``weight`` and ``map``, see :meth:`maps`.
        """
        if self.second_view == 'flip':
            second = views['flip'][teacher.main].flip(-1)
        else:
            second = teacher_logits[teacher.aux]
        return self.maps(teacher_logits[teacher.main], second, label_size,
                         teacher.align_corners)

    def maps(self, main: Tensor, second: Tensor, size: Sequence[int],
             align_corners: bool) -> Dict[str, Tensor]:
        """Compute the TFE weight map of two teacher views.

        Args:
            main (Tensor): Teacher main-head logits, (N, C, h, w).
            second (Tensor): The second view's logits, (N, C, h', w').
            size (Sequence[int]): The label size ``(H, W)``.
            align_corners (bool): ``align_corners`` of the teacher's head.

        Returns:
            dict[str, Tensor]: ``weight``, ``w`` at the label size
            (N, H, W), and ``map``, ``w`` at the main logits' size (N, h, w).
        """
        size = tuple(size)
        if self.resize_logits:
            weight = tfe_difficulty(
                resize(
                    main, size, mode='bilinear', align_corners=align_corners),
                resize(
                    second, size, mode='bilinear',
                    align_corners=align_corners), self.direction,
                align_corners)
            return dict(
                weight=weight,
                map=resize_map(weight, main.shape[2:], align_corners))
        small = tfe_difficulty(main, second, self.direction, align_corners)
        return dict(weight=resize_map(small, size, align_corners), map=small)

    def forward(self, student_logits: Tensor, label: Tensor, head: RDDHeadSpec,
                record: RDDStepRecord) -> RDDHeadWeights:
        """The TFE weights of one student head (the same for every head).

        Args:
            student_logits (Tensor): Unused (TFE asks the teacher only).
            label (Tensor): Labels, (N, H, W).
            head (RDDHeadSpec): The head (``ignore_index``, ``is_main``).
            record (RDDStepRecord): This step's record, with the maps of
                :meth:`prepare`.

        Returns:
            RDDHeadWeights: ``w`` as the weight, the logit-size map, and for
            the main head ``tfe_weight``, the mean ``w`` over valid pixels.
        """
        weight = record.teacher_maps['weight']
        stats = {}
        if head.is_main:
            valid = label != head.ignore_index
            stats['tfe_weight'] = ((weight * valid).sum() /
                                   valid.sum().clamp_min(1))
        return RDDHeadWeights(weight, record.teacher_maps['map'], stats)

    def distill_weight(self, out: RDDHeadWeights, size: Sequence[int],
                       align_corners: bool) -> Tensor:
        """The TFE weight at ``size`` for a weighted distillation loss.

        Args:
            out (RDDHeadWeights): The main head's weights of this step.
            size (Sequence[int]): The distillation loss's spatial size.
            align_corners (bool): ``align_corners`` of the bilinear resize.

        Returns:
            Tensor: (N, *size) float32, ``w`` resized bilinearly if needed.
        """
        return resize_map(out.distill_map, size, align_corners)
