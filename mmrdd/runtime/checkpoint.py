# Copyright (c) mmrdd contributors. All rights reserved.
"""Checkpoint conversion between a distillation run and plain MMSeg."""
from typing import Any, Dict, Optional

from torch import nn

from .weights import (CONVERTER, STUDENT_META_KEY, STUDENT_PREFIX,
                      checkpoint_kind, load_strictly, read_checkpoint,
                      state_dict_of)


def kd_to_student_checkpoint(checkpoint: Dict[str, Any]) -> Dict[str, Any]:
    """Keep the student of a distillation checkpoint, as MMSeg expects it.

    MMRazor's distillation algorithms hold the student as ``architecture``
    and the teacher as ``teacher``; plain MMSeg wants the student's own keys.
    The optimizer state and message hub are dropped (they belong to the
    distillation run, whose raw checkpoint stays the one to resume from);
    ``meta`` is kept so ``dataset_meta`` still names the classes.

    Args:
        checkpoint (dict): A checkpoint with ``state_dict`` (and ``meta``).

    Returns:
        dict: ``{'meta': ..., 'state_dict': student weights}``.

    Raises:
        KeyError: If the checkpoint holds no ``architecture.`` weights.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = {
        key[len(STUDENT_PREFIX):]: value
        for key, value in state_dict.items() if key.startswith(STUDENT_PREFIX)
    }
    if not student:
        raise KeyError(
            'no "architecture." weights in this checkpoint: it is not a '
            'distillation checkpoint (a plain MMSeg checkpoint can be used '
            'as it is).')
    meta = dict(checkpoint.get('meta', {}))
    meta.pop('message_hub', None)
    meta[STUDENT_META_KEY] = 'distillation'  # checkpoint_kind: 'student'
    return dict(meta=meta, state_dict=student)


def load_checkpoint_strict(model: nn.Module,
                           filename: str,
                           what: str = 'teacher',
                           download_timeout: Optional[float] = 60.0) -> int:
    """Load a checkpoint strictly, or fail with what to fix.

    MMEngine's ``load_checkpoint`` only logs missing and unexpected keys, so a
    wrong checkpoint silently leaves a randomly initialised teacher that then
    "distils" noise. Here every parameter and buffer of ``model`` must come
    from the checkpoint with the same shape.

    Args:
        model (nn.Module): The model to load into (the teacher, usually).
        filename (str): A local path or an ``https://`` URL (MMSeg's model
            zoo); URLs are cached where ``torch.hub`` caches them
            (:func:`~mmrdd.runtime.download.download_checkpoint`), and read
            with safe loading like a local file.
        what (str): What is loaded, for the messages. Defaults to
            ``'teacher'``.
        download_timeout (float, optional): Seconds that the download of
            a URL may wait for the server (to connect, or for each read).
            Defaults to 60.

    Returns:
        int: The number of tensors loaded.

    Raises:
        FileNotFoundError: If a local path does not exist.
        ValueError: If the URL is not HTTPS, or the file is not a
            checkpoint (see :func:`~mmrdd.runtime.weights.read_checkpoint`).
        RuntimeError: If a URL cannot be fetched, the file cannot be read
            safely, or the keys or shapes do not match the teacher.
    """
    checkpoint = read_checkpoint(filename, what, download_timeout)
    hint = ''
    if checkpoint_kind(checkpoint) == 'distillation':
        hint = (' It looks like a distillation checkpoint: convert it '
                f'with {CONVERTER} first.')
    return load_strictly(model, state_dict_of(checkpoint), filename, what,
                         f'{what} model', hint)
