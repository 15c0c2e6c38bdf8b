# Copyright (c) mmrdd contributors. All rights reserved.
"""mmrdd.compat: each patch is needed on this stack, works, and is narrow."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmrdd  # noqa: F401  (applies the patches)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_mmrazor_models_fails_without_the_patch():
    """open-mmlab/mmrazor#615: if this starts passing, drop the stub."""
    proc = python('import mmrazor.models')
    assert proc.returncode != 0
    assert 'torch>=1.13' in proc.stderr or 'quantization' in proc.stderr


def test_mmrazor_imports_with_mmrdd_and_quantization_says_why():
    proc = python(
        'import mmrdd, mmrazor.models, mmrazor.engine, mmseg.models\n'
        'from mmrazor.structures.quantization import QConfigHandler\n'
        'try:\n'
        '    QConfigHandler(dict())\n'
        'except RuntimeError as e:\n'
        '    print("ERR", e)\n')
    assert proc.returncode == 0, proc.stderr
    assert 'ERR QConfigHandler: MMRazor quantization is unavailable' in \
        proc.stdout
    assert 'mmrazor#615' in proc.stdout


def mmengine_like_checkpoint(path):
    buf = HistoryBuffer()
    buf.update(1.5)
    torch.save(
        dict(meta=dict(epoch=1, iter=5, seed=np.int64(3),
                       message_hub=dict(log_scalars={'train/loss': buf}),
                       arr=np.arange(3.0)),
             state_dict={'w': torch.ones(2)}), path)


def test_mmengine_checkpoint_needs_the_allowlist(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    mmengine_like_checkpoint(path)
    proc = python(f'import torch; torch.load({path!r})')
    assert proc.returncode != 0 and 'weights_only' in proc.stderr


def test_mmengine_checkpoint_loads_safely_with_mmrdd(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    mmengine_like_checkpoint(path)
    # in a fresh process, before any HistoryBuffer exists
    proc = python('import mmrdd, torch\n'
                  f'c = torch.load({path!r})\n'
                  "print(c['meta']['message_hub']['log_scalars']"
                  "['train/loss'].mean())")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '1.5'
    ckpt = torch.load(path)  # weights_only=True is torch's default here
    assert ckpt['meta']['message_hub']['log_scalars'][
        'train/loss'].current() == 1.5
    assert ckpt['meta']['seed'] == 3
    np.testing.assert_array_equal(ckpt['meta']['arr'], [0., 1., 2.])


class Arbitrary:
    """Not an MMEngine checkpoint type."""


def test_other_globals_are_still_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': Arbitrary()}, path)
    with pytest.raises(Exception, match='weights_only'):
        torch.load(path)


def test_getattr_stand_in_refuses_other_attributes():
    from mmrdd.compat import history_buffer_getattr
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(Exception, match='refusing'):
        history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(Exception, match='refusing'):
        history_buffer_getattr(np, 'load')
