# Copyright (c) mmrdd contributors. All rights reserved.
"""Test-only hooks that interrupt a training run at an exact point.

Imported through ``custom_imports`` by the configs that
``test_resume_guards.py`` writes (``tests/test_tools`` is put on
PYTHONPATH).
"""
import os
import os.path as osp
import signal
import time

from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module(force=True)
class KillDuringSaveHook(Hook):
    """SIGKILL the process halfway through writing checkpoint ``at_iter``.

    Before the checkpoint of iteration ``at_iter`` is written, the local
    file backend's ``put`` is replaced by one that writes the first half of
    the bytes, flushes them, and kills the process: what a power cut or an
    OOM kill during ``torch.save`` leaves behind.

    Args:
        at_iter (int): The iteration (1-based, as in ``iter_N.pth``).
    """

    priority = 'LOWEST'

    def __init__(self, at_iter: int) -> None:
        self.at_iter = at_iter

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Arm the kill for the save of ``at_iter``."""
        if checkpoint['meta']['iter'] != self.at_iter:
            return

        def half_then_kill(backend, obj: bytes, filepath) -> None:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)

        LocalBackend.put = half_then_kill


@HOOKS.register_module(force=True)
class PauseBeforeTrainHook(Hook):
    """Wait in ``before_train`` until the file ``go`` exists.

    Args:
        go (str): The file whose creation lets training start.
        timeout (float): Seconds to wait at most. Defaults to 300.
    """

    def __init__(self, go: str, timeout: float = 300.0) -> None:
        self.go = go
        self.timeout = timeout

    def before_train(self, runner) -> None:
        """Wait for ``go``."""
        deadline = time.time() + self.timeout
        while not osp.exists(self.go):
            if time.time() > deadline:
                raise TimeoutError(f'{self.go} did not appear')
            time.sleep(0.05)
