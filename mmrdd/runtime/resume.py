# Copyright (c) mmrdd contributors. All rights reserved.
"""Check the checkpoint ``--resume`` would load, before the runner loads it.

A run killed while it wrote a checkpoint, or a work dir copied while it was
written, can leave a truncated file; MMEngine then fails deep inside
``torch.load`` with a pickle or zip traceback that names neither file. A
checkpoint converted to the student (``mmrdd-convert --inplace``) or a file
of weights only fails with ``KeyError: 'message_hub'``.
"""
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

import torch

from .checkpoint import STUDENT_PREFIX
from .weights import file_problem

_ITER = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a readable checkpoint, or None when it is.

    A zip-format checkpoint (``torch.save``'s default) is checked by reading
    its central directory and the CRC-32 of every entry (the whole file is
    read once, no tensor is built); any other file is first checked by
    :func:`~mmrdd.runtime.weights.file_problem` (an image, a text or HTML
    file, a Git LFS pointer) and then loaded safely (``weights_only=True``)
    on the CPU: nothing of the file runs.

    Args:
        path (str): A checkpoint file.

    Returns:
        str, optional: The problem, e.g. ``'truncated or not a zip file
        (BadZipFile: ...)'``; None when the file reads back.
    """
    if not osp.isfile(path):
        return 'missing'
    if osp.getsize(path) == 0:
        return 'empty (0 bytes)'
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            return f'truncated or corrupt ({type(e).__name__}: {e})'
        return None if bad is None else f'corrupt entry {bad}'
    with open(path, 'rb') as f:
        head = f.read(4)
    if head.startswith(b'PK'):  # a zip without its end: cut short
        return 'truncated (a zip file without its central directory)'
    problem = file_problem(path)
    if problem is not None:
        return problem
    try:
        torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001  (any failure means unreadable)
        return f'unreadable ({type(e).__name__}: {e})'
    return None


def training_state_problem(path: str) -> Optional[str]:
    """Why a readable checkpoint cannot be resumed, or None when it can.

    A resumable checkpoint holds MMEngine's training state (``meta`` with
    the iteration, ``message_hub``) besides the weights. The file is opened
    with ``mmap`` (no tensor is read) where it is a zip file.

    Args:
        path (str): A readable checkpoint (see :func:`checkpoint_problem`).

    Returns:
        str, optional: ``'a converted student checkpoint ...'`` or ``'a
        file of weights only ...'``; None when it can be resumed (or cannot
        be opened here: MMEngine then reports it).
    """
    try:
        checkpoint = torch.load(
            path, map_location='cpu', mmap=zipfile.is_zipfile(path))
    except Exception:  # noqa: BLE001  (MMEngine's load reports it)
        return None
    if not isinstance(checkpoint, dict):
        return 'not a training checkpoint (not a dict)'
    meta = checkpoint.get('meta')
    if 'message_hub' in checkpoint and isinstance(meta, dict) and \
            'iter' in meta:
        return None
    state = checkpoint.get('state_dict', checkpoint)
    if isinstance(meta, dict) and isinstance(state, dict) and state and \
            not any(str(k).startswith(STUDENT_PREFIX) for k in state):
        return ('a converted student checkpoint (only meta and the '
                "student's state_dict, as mmrdd-convert / "
                'convert_kd_ckpt_to_student.py writes it; with --inplace it '
                "replaced the run's checkpoint), without the training state "
                '(message_hub, optimizer, iteration) a resume needs')
    return ('a file of weights only, without the training state '
            '(message_hub, optimizer, iteration) a resume needs')


def _numbered(work_dir: str) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` of ``work_dir``, newest first."""
    found = []
    for name in os.listdir(work_dir):
        m = _ITER.match(name)
        if m:
            found.append((int(m.group(1)), osp.join(work_dir, name)))
    return [path for _, path in sorted(found, reverse=True)]


def previous_good_checkpoint(work_dir: str,
                             bad: Optional[str] = None,
                             resumable: bool = False) -> Optional[str]:
    """The newest readable numbered checkpoint of ``work_dir`` but ``bad``.

    Args:
        work_dir (str): The run's work dir.
        bad (str, optional): A checkpoint to leave out. Defaults to None.
        resumable (bool): Only one that holds the training state too
            (:func:`training_state_problem`). Defaults to False.

    Returns:
        str, optional: Its path, or None when there is none.
    """
    for path in _numbered(work_dir):
        if bad is not None and osp.abspath(path) == osp.abspath(bad):
            continue
        if checkpoint_problem(path) is None and not (
                resumable and training_state_problem(path) is not None):
            return path
    return None


def check_resume_checkpoint(work_dir: str,
                            load_from: Optional[str] = None) -> Optional[str]:
    """Check the checkpoint a ``resume=True`` run will load, before it does.

    The checkpoint is ``load_from`` when given (MMEngine resumes from it),
    else the one named in ``<work_dir>/last_checkpoint`` (MMEngine's
    ``find_latest_checkpoint``). When it is missing, empty, truncated or
    corrupt, the error names it and the newest readable ``iter_N.pth`` of
    the work dir, with the command-line fix.

    Args:
        work_dir (str): The run's work dir.
        load_from (str, optional): ``cfg.load_from``. Defaults to None.

    Returns:
        str, optional: The checkpoint that will be resumed, or None when
        there is none (MMEngine then starts from scratch, with a warning).

    Raises:
        RuntimeError: The checkpoint cannot be read.
    """
    source = 'load_from'
    path = load_from
    if path is None:
        pointer = osp.join(work_dir, 'last_checkpoint')
        if not osp.isfile(pointer):
            return None
        with open(pointer) as f:
            path = f.read().strip()
        source = pointer
        if not path:
            path = pointer
            problem = 'empty (the run stopped while writing it)'
        else:
            problem = checkpoint_problem(path)
    else:
        problem = checkpoint_problem(path)
    if problem is None:
        problem = training_state_problem(path)
        if problem is None:
            return path
    good = previous_good_checkpoint(work_dir, bad=path, resumable=True)
    if good is None:
        fix = (f'no readable iter_N.pth is left in {work_dir}: start '
               'again without --resume (or with a fresh work dir).')
        if 'student' in problem:
            fix = (f'no resumable iter_N.pth is left in {work_dir}: start '
                   'again without --resume (or with a fresh work dir); the '
                   "student's weights can be tested with the student's "
                   f'config (tools/test.py STUDENT_CONFIG {path}). '
                   'Convert without --inplace to keep the run resumable '
                   '(it writes iter_N_student.pth beside iter_N.pth).')
    else:
        fix = (f'the previous good checkpoint is {good}: resume from it '
               f'with --resume --cfg-options load_from={good} (or write '
               f'its path into {osp.join(work_dir, "last_checkpoint")}).')
    raise RuntimeError(
        f'cannot resume: the checkpoint {path} (from {source}) is '
        f'{problem}. {fix}')
