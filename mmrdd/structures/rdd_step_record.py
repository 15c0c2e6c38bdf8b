# Copyright (c) mmrdd contributors. All rights reserved.
"""The per-step record of RDD: built after the teacher pass, then dropped."""
from dataclasses import dataclass, field
from typing import Dict

from torch import Tensor

from .rdd_head_weights import RDDHeadWeights
from .teacher_spec import TeacherSpec


@dataclass
class RDDStepRecord:
    """Everything one RDD training step knows, in the order it is learnt.

    :meth:`~mmrdd.models.RDDDistiller.step_record` builds it right after the
    teacher pass (the stage, the teacher's logits and the teacher-only maps
    that the stage's estimator prepared, e.g. the TFE weight); during the
    student's loss pass each student head's
    :class:`~mmrdd.models.RDDPixelSampler` adds the
    :class:`RDDHeadWeights` that the estimator returned under the head's
    name; the distillation losses and the logged statistics read it last.
    The algorithm holds it for one step only. It holds data only: the
    estimators read it and never travel in it.

    Args:
        stage (str): ``'tfe'`` or ``'tse'``.
        teacher (TeacherSpec): The teacher's heads (main, auxiliary view,
            ``align_corners``).
        teacher_logits (dict[str, Tensor]): Teacher logits by head name
            (``'decode_head'``, ``'auxiliary_head'``, ``'decode_head.1'``,
            ...), (N, C, h, w).
        teacher_maps (dict[str, Tensor]): Teacher-only maps that the
            stage's estimator computed once for this step. Defaults to {}.
        heads (dict[str, RDDHeadWeights]): Filled by the student heads'
            samplers. Defaults to {}.
    """

    stage: str
    teacher: TeacherSpec
    teacher_logits: Dict[str, Tensor]
    teacher_maps: Dict[str, Tensor] = field(default_factory=dict)
    heads: Dict[str, RDDHeadWeights] = field(default_factory=dict)

    def log_vars(self, main_head: str) -> Dict[str, Tensor]:
        """The statistics to log, as non-loss entries of the loss dict.

        ``rdd/stage`` (0 TFE, 1 TSE) and the statistics of ``main_head``
        (``rdd/tfe_weight``; ``rdd/tse_selected``, ``rdd/tse_hard_student``,
        ``rdd/tse_hard_teacher``). The keys contain no ``loss``, so MMEngine
        logs them without adding them to the loss (as MMSeg's ``acc_seg``).

        Args:
            main_head (str): Name of the student head whose statistics are
                logged.

        Returns:
            dict[str, Tensor]: 0-d tensors.
        """
        out = {f'rdd/{k}': v for k, v in self.heads[main_head].stats.items()}
        # new_full fills on the device: no host-to-device copy, no sync
        out['rdd/stage'] = self.heads[main_head].weight.new_full(
            (), float(self.stage == 'tse'))
        return out
