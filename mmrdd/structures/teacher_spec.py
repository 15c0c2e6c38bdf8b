# Copyright (c) mmrdd contributors. All rights reserved.
"""What a distillation step knows of its frozen teacher's heads."""
from dataclasses import dataclass
from typing import Optional, Tuple


@dataclass(frozen=True)
class TeacherSpec:
    """The teacher's heads as a distillation step uses them, fixed at build.

    Built once when the distiller is prepared from the teacher (see
    :meth:`~mmrdd.models.RDDDistiller.prepare_from_teacher`), then only
    read: by the teacher pass (which heads run), the candidate picker (whose
    logits score a candidate) and RDD's difficulty estimators (which head is
    the prediction, which one TFE's second view).

    Args:
        main (str): The head whose logits are the teacher's prediction
            (``'decode_head'``, a cascade's ``'decode_head.1'``, ...).
        aux (str, optional): The head of TFE's second view, None when the
            teacher has none.
        align_corners (bool): ``align_corners`` of the main head, for every
            resize of teacher maps.
        heads (tuple[str]): The heads the teacher pass runs, in the
            teacher's order.
    """

    main: str
    aux: Optional[str]
    align_corners: bool
    heads: Tuple[str, ...]
