# Copyright (c) mmrdd contributors. All rights reserved.
"""Test setup: make ``tests/_toy_models.py``, the repository and its lab
(``tools/mmrdd_lab``) importable; no test leaves an MMEngine default scope
behind for the next one."""
import os.path as osp
import sys

import pytest

HERE = osp.dirname(osp.abspath(__file__))
sys.path[:0] = [HERE, osp.dirname(HERE), osp.join(osp.dirname(HERE), 'tools')]


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
