# Copyright (c) mmrdd contributors. All rights reserved.
"""WorkDirLock: one holder at a time, named in the refusal; a lock left by
a killed process is taken over; a lock of another host is refused."""
import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from mmrdd.runtime import WorkDirInUseError, WorkDirLock
from mmrdd.runtime import work_dir_lock as module

HOST = socket.gethostname()
# A child that holds the lock, importing only the module's file (stdlib).
HOLDER = '''
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location('wdl', sys.argv[1])
wdl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wdl)
wdl.WorkDirLock(sys.argv[2]).acquire()
print('held', flush=True)
time.sleep(600)
'''


def holder_of(work_dir):
    with open(os.path.join(work_dir, 'train.lock')) as f:
        return json.load(f)


def test_one_holder_at_a_time(tmp_path):
    work_dir = str(tmp_path / 'w')
    lock = WorkDirLock(work_dir)
    assert lock.acquire() is None  # creates the work dir, no stale lock
    holder = holder_of(work_dir)
    assert (holder['pid'], holder['host']) == (os.getpid(), HOST)
    assert holder['command'] == ' '.join(sys.argv)
    with pytest.raises(WorkDirInUseError) as err:
        WorkDirLock(work_dir).acquire()
    msg = str(err.value)
    assert msg.startswith(f'the work dir {work_dir} is in use by another '
                          f'training run: pid {os.getpid()} on host {HOST} '
                          '(started ')
    assert msg.endswith('or give this run another --work-dir.')
    lock.release()
    assert not os.path.exists(lock.path)
    lock.release()  # twice: nothing
    with WorkDirLock(work_dir) as again:
        assert holder_of(work_dir)['pid'] == os.getpid()
    assert again._fd is None and not os.path.exists(again.path)


def test_killed_holder_is_taken_over(tmp_path):
    work_dir = str(tmp_path / 'w')
    child = subprocess.Popen(
        [sys.executable, '-c', HOLDER, module.__file__, work_dir],
        stdout=subprocess.PIPE,
        text=True)
    try:
        assert child.stdout.readline() == 'held\n'
        with pytest.raises(WorkDirInUseError) as err:
            WorkDirLock(work_dir).acquire()
        assert f'pid {child.pid} on host {HOST}' in str(err.value)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    lock = WorkDirLock(work_dir)
    stale = lock.acquire()
    assert stale['pid'] == child.pid and stale['host'] == HOST
    assert holder_of(work_dir)['pid'] == os.getpid()
    lock.release()


@pytest.mark.parametrize('content, previous', [
    (json.dumps(dict(pid=2**22 + 1, host=HOST)), dict(
        pid=2**22 + 1, host=HOST)),
    ('\x00 half-written', {}),
    ('[1, 2]', {}),
])
def test_stale_lock_file_is_taken_over(tmp_path, content, previous):
    (tmp_path / 'train.lock').write_text(content)
    lock = WorkDirLock(str(tmp_path))
    assert lock.acquire() == previous
    assert holder_of(str(tmp_path))['pid'] == os.getpid()
    lock.release()


def test_describe_names_the_holder_or_says_it_is_unknown():
    assert WorkDirLock.describe(
        {}) == ('an unknown process (the lock file is empty or unreadable)')
    assert WorkDirLock.describe(dict(
        pid=5, host='h', command='c')) == ('pid 5 on host h (started ?: c)')


def test_lock_of_another_host_is_refused_and_left(tmp_path):
    content = json.dumps(dict(pid=5, host=HOST + '-other', started=0))
    (tmp_path / 'train.lock').write_text(content)
    with pytest.raises(WorkDirInUseError) as err:
        WorkDirLock(str(tmp_path)).acquire()
    assert f'a training run on another host: pid 5 on host {HOST}-other' \
        in str(err.value)
    assert 'If it has ended, delete that file' in str(err.value)
    assert (tmp_path / 'train.lock').read_text() == content
