# Copyright (c) mmrdd contributors. All rights reserved.
"""CIRKD's memories with 2 CPU processes (gloo): after one step both ranks
hold the same queues, and those hold the entries of both ranks."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from _cirkd import memory_loss_cfg
from _dist_worker import free_port, leave_worker

pytestmark = pytest.mark.slow

# label maps at feature size (2 x 2), one image per rank
LABELS = {0: [[0, 0], [1, 255]], 1: [[1, 2], [2, 2]]}


def _rank_inputs(rank: int):
    g = torch.Generator().manual_seed(10 + rank)
    s = torch.randn(1, 4, 2, 2, generator=g)
    t = torch.randn(1, 4, 2, 2, generator=g)
    return s, t, torch.tensor([LABELS[rank]])


def _worker(rank: int, port: int, out_dir: str) -> None:
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    from mmrazor.registry import MODELS

    import mmrdd  # noqa: F401
    from mmrdd.runtime import close_launcher
    torch.manual_seed(100 + rank)  # each rank starts from other queues
    result = {}
    for memory in ('pixel', 'region'):
        loss = MODELS.build(
            memory_loss_cfg(
                memory=memory,
                memory_size=8,
                contrast_size=6,
                pixels_per_class=2))
        init = loss.queue.clone()
        value = loss(*_rank_inputs(rank))
        result[memory] = dict(
            init=init,
            queue=loss.queue.clone(),
            ptr=loss.ptr.clone(),
            loss=value.item())
    torch.save(result, osp.join(out_dir, f'rank{rank}.pth'))
    close_launcher()  # neither rank closes the group under the other's feet
    leave_worker()


def _teacher_pixels(rank: int, cls: int) -> np.ndarray:
    """The rank's normalised teacher embeddings of one class, (K, D)."""
    _, t, labels = _rank_inputs(rank)
    t = F.normalize(t, dim=1)[0].flatten(1).T.numpy()
    return t[labels[0].flatten().numpy() == cls]


def test_memory_holds_both_ranks_entries_and_is_the_same_on_both(tmp_path):
    mp.spawn(_worker, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [
        torch.load(osp.join(str(tmp_path), f'rank{r}.pth')) for r in (0, 1)
    ]
    for memory in ('pixel', 'region'):
        r0, r1 = ranks[0][memory], ranks[1][memory]
        assert not torch.equal(r0['init'], r1['init'])  # seeds differed
        assert torch.equal(r0['queue'], r1['queue'])
        assert torch.equal(r0['ptr'], r1['ptr'])
        assert np.isfinite([r0['loss'], r1['loss']]).all()
        assert r0['loss'] != r1['loss']  # each rank's own anchors

    # region memory: class means, rank 0's image first, then rank 1's
    region = ranks[0]['region']
    assert region['ptr'].tolist() == [1, 2, 1]
    expected = {(0, 0): (0, 0), (1, 0): (0, 1), (1, 1): (1, 1), (2, 0): (1, 2)}
    for (cls, slot), (rank, src_cls) in expected.items():
        mean = _teacher_pixels(rank, src_cls).mean(0)
        np.testing.assert_allclose(
            region['queue'][cls, slot].numpy(),
            mean / np.linalg.norm(mean),
            atol=1e-6)
    # slots nobody wrote keep rank 0's initial queue (broadcast once)
    np.testing.assert_array_equal(region['queue'][0, 1:].numpy(),
                                  region['init'][0, 1:].numpy())

    # pixel memory: up to 2 pixels per image and class
    pixel = ranks[0]['pixel']
    assert pixel['ptr'].tolist() == [2, 2, 2]
    q = pixel['queue'].numpy()
    np.testing.assert_allclose(q[1, 0], _teacher_pixels(0, 1)[0], atol=1e-6)
    np.testing.assert_allclose(q[1, 1], _teacher_pixels(1, 1)[0], atol=1e-6)
    for cls, rank in ((0, 0), (2, 1)):
        source = _teacher_pixels(rank, cls)
        for row in q[cls, :2]:
            assert np.abs(source - row).max(1).min() < 1e-6
    np.testing.assert_array_equal(q[:, 2:], pixel['init'][:, 2:].numpy())
