# Copyright (c) mmrdd contributors. All rights reserved.
"""The one interface of RDD's difficulty estimators (one per stage)."""
from typing import Dict, Sequence, Tuple

from torch import Tensor, nn

from mmrdd.structures import (RDDHeadSpec, RDDHeadWeights, RDDStepRecord,
                              TeacherSpec)

#: A teacher pass an estimator asks for: the batch and the heads to run.
TeacherView = Tuple[Tensor, Tuple[str, ...]]


class DifficultyEstimator(nn.Module):
    """What :class:`~mmrdd.models.RDDDistiller` asks of a stage's estimator.

    One estimator per stage (:class:`~mmrdd.models.RDDTFEDifficulty`,
    :class:`~mmrdd.models.RDDTSEDifficulty`); each owns all of its stage's
    work and is called in this order, data flowing one way:

    * once, when the distiller is prepared from the teacher:
      :meth:`teacher_heads` (and :meth:`check_teacher`);
    * in each step, right after the teacher pass, the teacher-side work:
      :meth:`teacher_views` names any extra teacher pass the stage needs
      (the algorithm runs it), :meth:`prepare` turns the teacher's logits
      into the step's teacher-only maps
      (:attr:`~mmrdd.structures.RDDStepRecord.teacher_maps`);
    * for each student head, from the head's sampler: :meth:`forward`
      reads the record and the head's frozen
      :class:`~mmrdd.structures.RDDHeadSpec` and returns the head's
      :class:`~mmrdd.structures.RDDHeadWeights`;
    * for a difficulty-weighted distillation loss: :meth:`distill_weight`.

    An estimator is given data, never its caller: it takes no sampler,
    algorithm or distiller, and calls nothing back. It has no parameters
    (buffers only, non-persistent), so no state dict changes.

    Attributes:
        count_rows (tuple[str]): Names of the rows of the per-class counts
            that :meth:`forward` returns for the main head
            (:attr:`~mmrdd.structures.RDDHeadWeights.class_counts`); empty
            when it counts nothing.
    """

    count_rows: Tuple[str, ...] = ()

    def teacher_heads(self, teacher: TeacherSpec) -> Tuple[str, ...]:
        """The teacher heads whose logits :meth:`prepare` reads.

        Args:
            teacher (TeacherSpec): The teacher's heads (``heads`` not yet
                final).

        Returns:
            tuple[str]: Head names. Defaults to the main head.
        """
        return (teacher.main, )

    def check_teacher(self, teacher: TeacherSpec) -> None:
        """Raise when the teacher cannot give this stage what it needs.

        Args:
            teacher (TeacherSpec): The teacher's heads.
        """

    def teacher_views(self, inputs: Tensor,
                      teacher: TeacherSpec) -> Dict[str, TeacherView]:
        """Extra teacher passes of this stage, by name.

        Args:
            inputs (Tensor): The batch the teacher saw, (N, 3, H, W).
            teacher (TeacherSpec): The teacher's heads.

        Returns:
            dict[str, tuple]: ``name -> (batch, heads)``; the algorithm runs
            the teacher (no gradient, not recorded) on each and hands the
            logits to :meth:`prepare`. Defaults to none.
        """
        return {}

    def prepare(self, teacher_logits: Dict[str, Tensor],
                views: Dict[str, Dict[str, Tensor]], teacher: TeacherSpec,
                label_size: Sequence[int]) -> Dict[str, Tensor]:
        """The teacher-only maps of this step, computed once for all heads.

        Args:
            teacher_logits (dict[str, Tensor]): The teacher pass's logits
                by head name, (N, C, h, w).
            views (dict[str, dict[str, Tensor]]): The logits of the passes
                of :meth:`teacher_views`, by view and head name.
            teacher (TeacherSpec): The teacher's heads.
            label_size (Sequence[int]): ``(H, W)`` of the label map.

        Returns:
            dict[str, Tensor]: The maps. Defaults to none.
        """
        return {}

    def forward(self, student_logits: Tensor, label: Tensor, head: RDDHeadSpec,
                record: RDDStepRecord) -> RDDHeadWeights:
        """The weights of one student head's task loss in this step.

        Args:
            student_logits (Tensor): The head's logits at the label size,
                (N, C, H, W), without gradient.
            label (Tensor): Labels, (N, H, W).
            head (RDDHeadSpec): The head, as fixed at install time.
            record (RDDStepRecord): This step's record (teacher logits and
                maps).

        Returns:
            RDDHeadWeights: The head's weights, map and statistics.
        """
        raise NotImplementedError

    def distill_weight(self, out: RDDHeadWeights, size: Sequence[int],
                       align_corners: bool) -> Tensor:
        """The main head's map as the weight of a distillation loss.

        Args:
            out (RDDHeadWeights): The main head's weights of this step.
            size (Sequence[int]): The distillation loss's spatial size.
            align_corners (bool): ``align_corners`` of a bilinear resize.

        Returns:
            Tensor: (N, *size) float32.
        """
        raise NotImplementedError
