# Copyright (c) mmrdd contributors. All rights reserved.
"""The committed toy teacher: float16 weights only, bytes that depend on the
weights alone, a SHA-256 checked before use, and a manifest whose numbers
the file reproduces."""
import os
import os.path as osp
import shutil

import pytest
import torch

from mmrdd_lab import toy_teacher
from mmrdd_lab.fingerprint import file_sha256, read_json
from mmrdd_lab.toy_teacher import (PUBLISHED_MANIFEST, PUBLISHED_TEACHER,
                                   TEACHER_CFG, fp16_weights,
                                   published_teacher, save_fp16_weights)

ROOT = toy_teacher.REPO_ROOT


def _checkpoint():
    """An MMEngine-like checkpoint: weights, a BN counter, optimizer state."""
    generator = torch.Generator().manual_seed(0)
    return dict(
        state_dict={
            'conv.weight': torch.randn(4, 3, generator=generator),
            'bn.running_var': torch.rand(4, generator=generator) + 1e-3,
            'bn.num_batches_tracked': torch.tensor(4000),
        },
        optimizer=dict(state={0: torch.ones(3)}),
        meta=dict(iter=4000))


def test_fp16_weights_round_floats_and_keep_the_rest_out():
    src = _checkpoint()
    out = fp16_weights(src)
    assert set(out) == {'state_dict', 'meta'}  # no optimizer state
    assert out['meta'] == dict(dtype='float16')
    weights = out['state_dict']
    for key in ('conv.weight', 'bn.running_var'):
        assert weights[key].dtype == torch.float16
        assert torch.equal(weights[key], src['state_dict'][key].half())
    counter = weights['bn.num_batches_tracked']
    assert counter.dtype == torch.int64 and int(counter) == 4000


def test_the_written_bytes_depend_on_the_weights_only(tmp_path):
    src = str(tmp_path / 'run.pth')
    torch.save(_checkpoint(), src)
    a = save_fp16_weights(src, str(tmp_path / 'a.pth'))
    b = save_fp16_weights(src, str(tmp_path / 'sub' / 'other_name.pth'))
    assert a == b == file_sha256(str(tmp_path / 'a.pth'))
    assert not [n for n in os.listdir(tmp_path) if '.tmp' in n]


def test_the_committed_teacher_is_its_manifest_s_and_loads_strictly():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from mmrdd.runtime import load_checkpoint_strict
    path, manifest = published_teacher()  # raises unless the sha256 matches
    assert path == osp.join(ROOT, PUBLISHED_TEACHER)
    assert manifest['sha256'] == file_sha256(path)
    assert manifest['size_bytes'] == osp.getsize(path) < 8 * 2**20
    assert manifest['config'] == TEACHER_CFG
    weights = torch.load(path, map_location='cpu')['state_dict']
    floats = {k: v for k, v in weights.items() if v.is_floating_point()}
    assert {v.dtype for v in floats.values()} == {torch.float16}
    assert manifest['num_params'] == sum(v.numel() for k, v in floats.items()
                                         if 'running_' not in k)
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(osp.join(ROOT, TEACHER_CFG)).model)
    load_checkpoint_strict(model, path)  # every key, every shape
    loaded = model.state_dict()
    for key, value in floats.items():  # float32 model, float16 values
        assert loaded[key].dtype == torch.float32
        assert torch.equal(loaded[key], value.float())


def test_a_changed_or_missing_teacher_is_refused_with_the_fix(
        tmp_path, monkeypatch):
    monkeypatch.setattr(toy_teacher, 'REPO_ROOT', str(tmp_path))
    with pytest.raises(
            FileNotFoundError,
            match='git checkout -- '
            'checkpoints/toy, or train one with --retrain'):
        published_teacher()
    for name in (PUBLISHED_TEACHER, PUBLISHED_MANIFEST):
        os.makedirs(osp.dirname(str(tmp_path / name)), exist_ok=True)
        shutil.copy(osp.join(ROOT, name), str(tmp_path / name))
    assert published_teacher()[1] == read_json(
        osp.join(ROOT, PUBLISHED_MANIFEST))
    with open(tmp_path / PUBLISHED_TEACHER, 'r+b') as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(
            RuntimeError,
            match='the file was changed. Restore '
            'it with git checkout -- checkpoints/toy'):
        published_teacher()


@pytest.mark.slow
def test_the_committed_teacher_scores_its_manifest_s_test_miou(tmp_path):
    """The manifest's test mIoU is what the file scores (float16 weights in
    the float32 model, one thread) on the data set it names."""
    from mmrdd.datasets import generate_toy_dataset
    from mmrdd_lab.evaluate import evaluate_segmentor
    from mmrdd_lab.fingerprint import dataset_sha256
    manifest = read_json(osp.join(ROOT, PUBLISHED_MANIFEST))
    data_root = str(tmp_path / 'toyseg')
    generate_toy_dataset(data_root)
    assert dataset_sha256(data_root) == manifest['data_sha256']
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        scores = evaluate_segmentor(
            osp.join(ROOT, TEACHER_CFG), osp.join(ROOT, PUBLISHED_TEACHER),
            data_root, 'test_dataloader')
    finally:
        torch.set_num_threads(threads)
    assert scores == manifest['test']
