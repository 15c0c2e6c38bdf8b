# Copyright (c) mmrdd contributors. All rights reserved.
"""Reading a distiller's records, with the teacher's cut to picked rows.

MMRazor's recorders hold what the teacher and student passes recorded and
are read through ``get_recorder(...).get_record_data(...)``, as
``ConfigurableDistiller.get_record`` does. When the teacher pass ran on
more candidates than the student trains on (candidate picking), the
teacher's records keep every candidate and the reader cuts them to the kept
rows: nothing is written back into a recorder.
"""
from typing import Any, Callable, Dict, NamedTuple, Optional

from mmrazor.models.task_modules.recorder import ParameterRecorder
from torch import Tensor

from mmrdd.functional.kd_pick import index_batch


class KeptRows(NamedTuple):
    """The candidates a step keeps after the teacher pass.

    Args:
        index (Tensor): (K, ) int64 indices of the kept candidates, in the
            order of the student's batch.
        num (int): The number of candidates the teacher saw.
    """

    index: Tensor
    num: int


def read_record(distiller,
                recorder: str,
                from_student: bool,
                record_idx: int = 0,
                data_idx: Optional[int] = None,
                connector: Optional[str] = None,
                connector_idx: Optional[int] = None,
                rows: Optional[KeptRows] = None) -> Any:
    """``ConfigurableDistiller.get_record``, teacher records cut to ``rows``.

    The arguments before ``rows`` are those of a ``loss_forward_mappings``
    entry. A teacher record is indexed along its batch dimension with
    :func:`~mmrdd.functional.kd_pick.index_batch` before any connector runs
    (a connector then sees the kept rows only, as it would without
    picking); parameter recorders hold no batch and are read as they are.

    Args:
        distiller (ConfigurableDistiller): The distiller whose records are
            read.
        recorder (str): The recorder's name.
        from_student (bool): Whether it records the student.
        record_idx (int): Which call of the recorded source. Defaults to 0.
        data_idx (int, optional): Which item of a tuple record. Defaults
            to None (the whole record).
        connector (str, optional): A connector applied to the record.
            Defaults to None.
        connector_idx (int, optional): Which item of the connector's
            output. Defaults to None.
        rows (KeptRows, optional): The kept candidates. Defaults to None
            (the teacher saw the student's batch).

    Returns:
        Any: The record.
    """
    manager = distiller.student_recorders if from_student \
        else distiller.teacher_recorders
    source = manager.get_recorder(recorder)
    data = source.get_record_data(record_idx, data_idx)
    if rows is not None and not from_student and not isinstance(
            source, ParameterRecorder):
        data = index_batch(data, rows.index, rows.num)
    if connector:
        data = distiller.connectors[connector](data)
    if connector_idx is not None:
        data = data[connector_idx]
    return data


def compute_distill_losses(
    distiller,
    rows: Optional[KeptRows] = None,
    weight: Optional[Callable[[str, Dict[str, Any]], Optional[Tensor]]] = None
) -> Dict[str, Tensor]:
    """Every distillation loss of ``distiller`` on its records.

    ``ConfigurableDistiller.compute_distill_losses`` with the records read
    by :func:`read_record`, and an optional per-pixel ``weight=`` for some
    losses.

    Args:
        distiller (ConfigurableDistiller): The distiller.
        rows (KeptRows, optional): The kept candidates. Defaults to None.
        weight (Callable, optional): ``weight(loss_name, kwargs)`` returns
            the ``weight=`` of that loss, or None for none. Defaults to
            None.

    Returns:
        dict[str, Tensor]: The losses by name.
    """
    losses = dict()
    for name, mappings in distiller.loss_forward_mappings.items():
        kwargs = {
            key: read_record(distiller, rows=rows, **record)
            for key, record in mappings.items()
        }
        extra = None if weight is None else weight(name, kwargs)
        if extra is not None:
            kwargs['weight'] = extra
        losses[name] = distiller.distill_losses[name](**kwargs)
    return losses
