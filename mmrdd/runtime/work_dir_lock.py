# Copyright (c) mmrdd contributors. All rights reserved.
"""One training run per work dir: a lock file that names its holder.

Two runs started with the same ``--work-dir`` both train, and MMEngine lets
the second overwrite the first's checkpoints, ``last_checkpoint`` and config
copy without a word. ``tools/train.py`` therefore takes
``<work_dir>/train.lock`` before the runner writes anything: the file names
the holder (pid, host, start time, command line) and the holder keeps an
exclusive ``flock`` on it while it lives. The kernel drops the ``flock``
when the process ends, however it ends (a ``SIGKILL`` included), so a lock
left by a dead run is recognised as stale without guessing from pids (a pid
may have been reused by another program since).
"""
import errno
import fcntl
import json
import os
import os.path as osp
import socket
import sys
import time
from typing import Optional

#: The lock file's name inside the work dir.
LOCK_NAME = 'train.lock'


class WorkDirInUseError(RuntimeError):
    """Another training run holds the work dir."""


class WorkDirLock:
    """Hold ``<work_dir>/train.lock`` for the life of this process.

    :meth:`acquire` creates the work dir and the lock file if needed, takes
    an exclusive non-blocking ``flock`` on it and writes the holder into it;
    :meth:`release` (also at ``with`` exit) deletes the file and drops the
    lock. A lock file whose ``flock`` is free belongs to a run that ended
    without releasing it (killed, crashed) on this host: it is taken over,
    and the previous holder it names is returned by :meth:`acquire` for a
    warning. A stale-looking lock of another host is refused (its ``flock``
    may not reach this host, e.g. on a network file system).

    Args:
        work_dir (str): The run's work dir.
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self._fd: Optional[int] = None

    @staticmethod
    def describe(holder: dict) -> str:
        """``'pid 123 on host h (started 2024-01-01 10:00:00: python ...)'``.

        Args:
            holder (dict): What a lock file holds (empty when unreadable).

        Returns:
            str: A phrase for messages.
        """
        if not holder:
            return 'an unknown process (the lock file is empty or unreadable)'
        started = holder.get('started')
        when = time.strftime('%Y-%m-%d %H:%M:%S',
                             time.localtime(started)) if isinstance(
                                 started, (int, float)) else '?'
        return (f"pid {holder.get('pid', '?')} on host "
                f"{holder.get('host', '?')} (started {when}: "
                f"{holder.get('command', '?')})")

    def _read(self, fd: int) -> dict:
        os.lseek(fd, 0, os.SEEK_SET)
        data = b''
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
        try:
            holder = json.loads(data.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            return {}
        return holder if isinstance(holder, dict) else {}

    def acquire(self) -> Optional[dict]:
        """Take the lock, or stop with who holds it.

        Returns:
            dict, optional: The previous holder of a stale lock that was
            taken over (``{}`` when its file was unreadable), or None when
            there was no lock file.

        Raises:
            WorkDirInUseError: Another live process holds the lock, or a
                process of another host (the message names it and the ways
                out).
        """
        os.makedirs(self.work_dir, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                holder = self._read(fd)
                os.close(fd)
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise WorkDirInUseError(
                    f'the work dir {self.work_dir} is in use by another '
                    f'training run: {self.describe(holder)} holds '
                    f'{self.path}. Two runs in one work dir overwrite each '
                    'other\'s checkpoints and last_checkpoint. Wait for that '
                    'run to end (or stop it), or give this run another '
                    '--work-dir.') from None
            # the file may have been deleted by a holder that released it
            # between our open and our flock: then lock the new file
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            break
        stale = self._read(fd) if os.fstat(fd).st_size else None
        host = socket.gethostname()
        if stale and stale.get('host', host) != host:
            # its flock may not reach this host (a network file system
            # without shared locks): whether it still runs is unknown here
            os.close(fd)
            raise WorkDirInUseError(
                f'the work dir {self.work_dir} may be in use by a training '
                f'run on another host: {self.describe(stale)} holds '
                f'{self.path}, and this host cannot check whether it still '
                'runs. If it has ended, delete that file and start again; '
                'otherwise give this run another --work-dir.')
        holder = dict(
            pid=os.getpid(),
            host=host,
            started=time.time(),
            command=' '.join(sys.argv))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(holder).encode('utf-8'))
        os.fsync(fd)
        self._fd = fd
        return stale

    def release(self) -> None:
        """Delete the lock file and drop the lock (no-op when not held)."""
        if self._fd is None:
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> 'WorkDirLock':
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
