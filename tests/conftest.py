# Copyright (c) mmrdd contributors. All rights reserved.
"""Test setup: make ``tests/_toy_models.py``, the repository and its lab
(``tools/mmrdd_lab``) importable; no test leaves an MMEngine default scope
behind for the next one."""
import os.path as osp
import sys

import pytest

HERE = osp.dirname(osp.abspath(__file__))
sys.path[:0] = [
    HERE,
    osp.join(HERE, 'test_cuda'),
    osp.dirname(HERE),
    osp.join(osp.dirname(HERE), 'tools')
]


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """A Runner (``default_scope='mmseg'``) or ``init_default_scope`` makes a
    new current ``DefaultScope``; a later ``MODELS.build(dict(type=...))``
    without ``_scope_`` would then look in the wrong registry. Restore the
    scopes that existed before the test."""
    from mmengine.registry import DefaultScope
    before = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)


# The fixtures of the CUDA tests (marker ``cuda``, tests/test_cuda). They
# live here rather than in a tests/test_cuda/conftest.py: the modules of
# tests/test_tools import their own ``conftest`` by name, and a second
# ``conftest`` module collected before them would shadow it in a full run.
@pytest.fixture
def device():
    """The device of a CUDA test: CUDA, or a skip that says why, or the
    CPU in the GPU check's dry run (``_cuda_helpers.cuda_test_device``)."""
    from _cuda_helpers import cuda_test_device
    return cuda_test_device()


@pytest.fixture(params=['float16', 'bfloat16'])
def amp_dtype(request):
    """float16 (the paper's mixed precision, ``AmpOptimWrapper``'s
    default) and bfloat16."""
    import torch
    return getattr(torch, request.param)
