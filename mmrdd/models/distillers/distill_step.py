# Copyright (c) mmrdd contributors. All rights reserved.
"""What a frozen-teacher distillation step asks of its distiller."""
from contextlib import nullcontext
from typing import ContextManager, Dict, Optional, Sequence

from torch import Tensor, nn

from mmrdd.structures import TeacherSpec
from ..utils import (KeptRows, all_heads, compute_distill_losses, main_head,
                     recorded_heads)


class DistillStep:
    """The step interface of a distiller that only distils.

    :class:`~mmrdd.models.FrozenTeacherDistill` runs one step as: the
    teacher pass (the heads of :attr:`teacher_spec`), the extra teacher
    passes of :meth:`teacher_views`, :meth:`step_record`, the student's own
    loss inside :meth:`bind`, then :meth:`log_vars` and
    :meth:`compute_distill_losses`. A distiller that also weights the task
    loss has these methods itself (:class:`~mmrdd.models.RDDDistiller`);
    for one that does not (MMRazor's ``ConfigurableDistiller``) this class
    gives the plain step: no views, no record, nothing bound, nothing
    logged, the distillation losses as MMRazor computes them (with the
    teacher's records cut to the picked candidates when picking).

    Args:
        distiller (ConfigurableDistiller): The distiller, prepared from the
            models.
        teacher (nn.Module): The teacher segmentor.
    """

    def __init__(self, distiller, teacher: nn.Module) -> None:
        self.distiller = distiller
        main = main_head(teacher)
        self.teacher_spec = TeacherSpec(
            main, None,
            all_heads(teacher)[main].align_corners,
            tuple(recorded_heads(teacher, distiller.teacher_recorders)))

    @property
    def teacher_heads(self) -> Sequence[str]:
        """The teacher heads the teacher pass runs: those recorded."""
        return self.teacher_spec.heads

    def teacher_views(self, inputs: Tensor) -> Dict[str, tuple]:
        """No extra teacher pass."""
        return {}

    def step_record(self, teacher_logits: Dict[str, Tensor],
                    views: Dict[str, Dict[str, Tensor]],
                    label_size: Sequence[int]) -> None:
        """No record."""
        return None

    def bind(self, record: None, collect: bool = True) -> ContextManager:
        """Nothing to bind."""
        return nullcontext()

    def log_vars(self, record: None) -> Dict[str, Tensor]:
        """Nothing to log."""
        return {}

    def compute_distill_losses(
            self,
            record: None = None,
            rows: Optional[KeptRows] = None) -> Dict[str, Tensor]:
        """The distiller's losses, see
        :func:`~mmrdd.models.utils.compute_distill_losses`."""
        return compute_distill_losses(self.distiller, rows)
