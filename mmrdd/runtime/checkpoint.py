# Copyright (c) mmrdd contributors. All rights reserved.
"""Checkpoint conversion between a distillation run and plain MMSeg."""
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from .download import download_checkpoint

STUDENT_PREFIX = 'architecture.'


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
    return dict(meta=meta, state_dict=student)


def load_checkpoint_strict(model: nn.Module,
                           filename: str,
                           what: str = 'teacher',
                           download_timeout: Optional[float] = 60.0) -> None:
    """Load a checkpoint strictly, or fail with what to fix.

    MMEngine's ``load_checkpoint`` only logs missing and unexpected keys, so a
    wrong checkpoint silently leaves a randomly initialised teacher that then
    "distils" noise. Here every parameter and buffer of ``model`` must come
    from the checkpoint with the same shape.

    Args:
        model (nn.Module): The model to load into (the teacher, usually).
        filename (str): A local path or an ``https://`` URL (MMSeg's model
            zoo); URLs are cached where ``torch.hub`` caches them
            (:func:`~mmrdd.runtime.download.download_checkpoint`).
        what (str): What is loaded, for the messages. Defaults to
            ``'teacher'``.
        download_timeout (float, optional): Seconds that the download of
            a URL may wait for the server (to connect, or for each read).
            Defaults to 60.

    Raises:
        FileNotFoundError: If a local path does not exist.
        ValueError: If the URL is not HTTPS.
        RuntimeError: If a URL cannot be fetched, or the keys or shapes do
            not match the teacher.
    """
    if '://' in filename:
        if not filename.startswith('https://'):
            raise ValueError(
                f'{what} checkpoint "{filename}": only https:// URLs (or '
                'local paths) are accepted, so the download is authenticated.')
        try:
            checkpoint = _load_checkpoint(
                download_checkpoint(filename, download_timeout),
                map_location='cpu')
        except Exception as exc:  # network errors come in many types
            raise RuntimeError(
                f'could not download the {what} checkpoint {filename} '
                f'({type(exc).__name__}: {exc}). Download it where there is '
                f'internet access and give the local file instead.') from exc
    else:
        if not osp.isfile(filename):
            raise FileNotFoundError(
                f'{what} checkpoint "{filename}" does not exist: give the '
                'path of an existing .pth file (for the teacher of a config: '
                '--cfg-options model.teacher_ckpt=PATH).')
        checkpoint = _load_checkpoint(filename, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    state_dict = {(k[len('module.'):] if k.startswith('module.') else k): v
                  for k, v in state_dict.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = sorted(
        k for k in set(expected) & set(state_dict)
        if tuple(expected[k].shape) != tuple(state_dict[k].shape))
    if missing or unexpected or mismatched:
        hint = ''
        if any(k.startswith(STUDENT_PREFIX) for k in unexpected):
            hint = (' It looks like a distillation checkpoint: convert it '
                    'with tools/model_converters/'
                    'convert_kd_ckpt_to_student.py first.')
        details = '; '.join(f'{kind} ({len(keys)}): {", ".join(keys[:3])}'
                            f'{", ..." if len(keys) > 3 else ""}'
                            for kind, keys in (('missing', missing),
                                               ('unexpected', unexpected),
                                               ('shape mismatch', mismatched))
                            if keys)
        raise RuntimeError(
            f'{what} checkpoint {filename} does not match the {what} '
            f'model: {details}. Check that the config is the one the '
            f'checkpoint was trained with.{hint}')
    model.load_state_dict(state_dict, strict=True)
