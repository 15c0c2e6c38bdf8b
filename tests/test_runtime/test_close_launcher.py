# Copyright (c) mmrdd contributors. All rights reserved.
"""``close_launcher``: every rank leaves the process group together.

Rank 1 reaches the end of its run a second after rank 0; rank 0's
``close_launcher`` must not return before rank 1 has arrived (the barrier),
and afterwards neither rank holds a process group. A finished runner's DDP
wrapper, unreachable but kept alive by a reference cycle (as a runner's
is), is freed before the group is destroyed, not in interpreter
finalisation (where a rank aborted with SIGABRT after a correct run).
"""
import gc
import os.path as osp
import socket
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from _dist_worker import leave_worker
from torch.nn.parallel import DistributedDataParallel

from mmrdd.runtime import close_launcher

pytestmark = pytest.mark.slow

LATE = 1.0  # seconds rank 1 arrives after rank 0


class _Cycle:
    """Holds ``ddp`` in a reference cycle (freed only by ``gc``)."""

    def __init__(self, ddp):
        self.ddp, self.me = ddp, self


def _alive_ddp() -> int:
    return sum(
        isinstance(o, DistributedDataParallel) for o in gc.get_objects())


def _worker(rank: int, port: int, out_dir: str) -> None:
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    # a dropped runner: its DDP wrapper in a reference cycle (DDP's
    # construction synchronises the ranks: before the clock starts)
    gc.disable()
    runner = _Cycle(DistributedDataParallel(torch.nn.Linear(2, 2)))
    del runner
    alive_before = _alive_ddp()
    dist.barrier()  # both ranks start the clock together
    if rank == 1:
        time.sleep(LATE)
    destroy, alive_at_destroy = dist.destroy_process_group, []

    def recorded_destroy(*args, **kwargs):
        alive_at_destroy.append(_alive_ddp())
        return destroy(*args, **kwargs)

    dist.destroy_process_group = recorded_destroy
    arrived = time.time()
    close_launcher()
    torch.save(
        dict(
            arrived=arrived,
            left=time.time(),
            initialized=dist.is_initialized(),
            alive_before=alive_before,
            alive_at_destroy=alive_at_destroy),
        osp.join(out_dir, f'rank{rank}.pth'))
    leave_worker()


def test_ranks_leave_together_and_the_group_is_closed(tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(_worker, args=(port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (
        torch.load(osp.join(str(tmp_path), f'rank{r}.pth')) for r in (0, 1))
    assert r1['arrived'] - r0['arrived'] > 0.5 * LATE
    assert r0['left'] >= r1['arrived']  # rank 0 waited for rank 1
    assert not r0['initialized'] and not r1['initialized']
    for r in (r0, r1):
        assert r['alive_before'] == 1  # the cycle kept it alive
        assert r['alive_at_destroy'] == [0]  # freed before the group went


def test_no_process_group_is_left_alone():
    assert not dist.is_initialized()
    close_launcher()  # nothing to close: no error, nothing started
    assert not dist.is_initialized()
