# Copyright (c) mmrdd contributors. All rights reserved.
"""The guards ``tools/train.py`` puts around every training run.

* :class:`~mmrdd.runtime.AtomicCheckpointHook` in place of MMEngine's
  ``CheckpointHook`` (a kill during a save loses no checkpoint);
* :class:`~mmrdd.runtime.RunFingerprintHook` (resume exactly or refuse;
  checkpoints without the frozen teacher);
* :class:`~mmrdd.runtime.WorkDirLock` (one run per work dir), taken by the
  process of global rank 0 before the runner writes anything.
"""
import logging
import os
from contextlib import contextmanager
from typing import Iterator

from mmengine.config import Config
from mmengine.logging import print_log

from .atomic_checkpoint_hook import AtomicCheckpointHook
from .run_fingerprint_hook import RunFingerprintHook
from .work_dir_lock import WorkDirLock

_STOCK_CHECKPOINT_HOOK = ('CheckpointHook', 'mmengine.CheckpointHook')


def _hook_type(cfg: Config, name: str) -> str:
    """``name``, scoped to MMSeg's registry unless that is the default."""
    return name if cfg.get('default_scope', None) == 'mmseg' \
        else f'mmseg.{name}'


def _type_name(hook) -> str:
    kind = hook.get('type', '') if isinstance(hook, dict) else ''
    kind = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return kind.split('.')[-1]


def add_train_guards(cfg: Config) -> None:
    """Use the atomic checkpoint hook and add the fingerprint hook.

    ``default_hooks.checkpoint`` of type ``CheckpointHook`` becomes an
    ``AtomicCheckpointHook`` with the same arguments (another type, e.g. a
    user's subclass, is left alone); ``RunFingerprintHook`` is appended to
    ``custom_hooks`` unless the config lists it.

    Args:
        cfg (Config): A training config, updated in place.
    """
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint', None)
    if isinstance(checkpoint, dict) and checkpoint.get(
            'type', None) in _STOCK_CHECKPOINT_HOOK:
        checkpoint['type'] = _hook_type(cfg, AtomicCheckpointHook.__name__)
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(_type_name(h) == RunFingerprintHook.__name__ for h in hooks):
        hooks.append(dict(type=_hook_type(cfg, RunFingerprintHook.__name__)))
    cfg.custom_hooks = hooks


def global_rank() -> int:
    """This process's rank from the launcher's environment (0 alone)."""
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(name, '').isdigit():
            return int(os.environ[name])
    return 0


@contextmanager
def work_dir_held(work_dir: str) -> Iterator[None]:
    """Hold ``<work_dir>/train.lock`` inside (global rank 0 only).

    A stale lock (its run was killed) is taken over with a warning.

    Args:
        work_dir (str): The run's work dir.

    Raises:
        WorkDirInUseError: Another live run holds the work dir.
    """
    lock = WorkDirLock(work_dir) if global_rank() == 0 else None
    if lock is not None:
        stale = lock.acquire()
        if stale is not None:
            print_log(
                f'Took over {lock.path}: the run that held it, '
                f'{WorkDirLock.describe(stale)}, ended without releasing it '
                '(killed or crashed); its checkpoints are left as they are.',
                logger='current',
                level=logging.WARNING)
    try:
        yield
    finally:
        if lock is not None:
            lock.release()
