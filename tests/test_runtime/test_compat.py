# Copyright (c) mmrdd contributors. All rights reserved.
"""mmrdd.runtime.compat: each patch is needed, works, and is narrow."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.utils import digit_version

import mmrdd  # noqa: F401  (applies the patches)
from mmrdd.runtime import compat

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# What the torch running the suite does (`make test`: 2.13, `make
# test-compat`: 2.1); the other releases' branches run with the version
# patched further down.
SAFE_GLOBALS = hasattr(torch.serialization, 'add_safe_globals')  # >= 2.4
WEIGHTS_ONLY_DEFAULT = digit_version(
    torch.__version__) >= digit_version('2.6.0')


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)


@pytest.mark.slow  # a fresh interpreter
def test_mmrazor_models_fails_without_the_patch():
    """open-mmlab/mmrazor#615: if this starts passing, drop the stub."""
    proc = python('import mmrazor.models')
    assert proc.returncode != 0
    assert 'torch>=1.13' in proc.stderr or 'quantization' in proc.stderr


@pytest.mark.slow  # a fresh interpreter
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
        dict(
            meta=dict(
                epoch=1,
                iter=5,
                seed=np.int64(3),
                message_hub=dict(log_scalars={'train/loss': buf}),
                arr=np.arange(3.0)),
            state_dict={'w': torch.ones(2)}), path)


@pytest.mark.slow  # a fresh interpreter
def test_mmengine_checkpoint_needs_the_allowlist(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    mmengine_like_checkpoint(path)
    proc = python(f'import torch; torch.load({path!r}, weights_only=True)')
    assert proc.returncode != 0 and 'weights_only' in proc.stderr
    # torch's default: weights_only from 2.6 on
    proc = python(f'import torch; torch.load({path!r})')
    assert (proc.returncode != 0) == WEIGHTS_ONLY_DEFAULT, proc.stderr


@pytest.mark.slow  # a fresh interpreter
def test_mmengine_checkpoint_loads_with_mmrdd(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    mmengine_like_checkpoint(path)
    # in a fresh process, before any HistoryBuffer exists
    proc = python('import mmrdd, torch\n'
                  f'c = torch.load({path!r})\n'
                  "print(c['meta']['message_hub']['log_scalars']"
                  "['train/loss'].mean())")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '1.5'
    ckpt = torch.load(path)  # weights_only=True where it is the default
    assert ckpt['meta']['message_hub']['log_scalars']['train/loss'].current(
    ) == 1.5
    assert ckpt['meta']['seed'] == 3
    np.testing.assert_array_equal(ckpt['meta']['arr'], [0., 1., 2.])
    if SAFE_GLOBALS:  # and so explicitly safe loading, too
        ckpt = torch.load(path, weights_only=True)
        assert ckpt['meta']['message_hub']['log_scalars']['train/loss'].mean(
        ) == 1.5
    else:  # torch < 2.4: nothing to extend, safe loading stays strict
        assert compat.allow_mmengine_checkpoints() is False
        with pytest.raises(Exception, match='weights_only'):
            torch.load(path, weights_only=True)


class Arbitrary:
    """Not an MMEngine checkpoint type."""


@pytest.mark.slow  # a fresh interpreter
def test_other_globals_are_still_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': Arbitrary()}, path)
    with pytest.raises(Exception, match='weights_only'):
        torch.load(path, weights_only=True)
    if WEIGHTS_ONLY_DEFAULT:
        with pytest.raises(Exception, match='weights_only'):
            torch.load(path)
    else:  # torch < 2.6 unpickles anything by default; mmrdd keeps that
        assert isinstance(torch.load(path)['x'], Arbitrary)


def test_getattr_stand_in_refuses_other_attributes():
    from mmrdd.runtime.compat import history_buffer_getattr
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(Exception, match='refusing'):
        history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(Exception, match='refusing'):
        history_buffer_getattr(np, 'load')


# The branches of other torch releases, with the version patched.


@pytest.mark.parametrize('version,needed', [('1.13.1', False),
                                            ('1.13.0+cu117', False),
                                            ('2.0.0', True),
                                            ('2.1.2+cu121', True),
                                            ('2.13.0+cpu', True)])
def test_quantization_stub_is_needed_from_torch_2(monkeypatch, version,
                                                  needed):
    monkeypatch.setattr(torch, '__version__', version)
    assert compat.needs_quantization_stub() is needed


def test_no_quantization_stub_below_torch_2(monkeypatch):
    monkeypatch.setattr(torch, '__version__', '1.13.1')
    monkeypatch.delitem(sys.modules, compat.QUANT_MODULE, raising=False)
    assert compat.install_mmrazor_quantization_stub() is False
    assert compat.QUANT_MODULE not in sys.modules


def test_quantization_stub_on_torch_2(monkeypatch):
    monkeypatch.setattr(torch, '__version__', '2.0.0')
    monkeypatch.delitem(sys.modules, compat.QUANT_MODULE, raising=False)
    assert compat.install_mmrazor_quantization_stub() is True
    stub = sys.modules[compat.QUANT_MODULE]
    assert stub.MMRDD_STUB is True
    assert sorted(stub.__all__) == sorted(compat.QUANT_NAMES)
    with pytest.raises(RuntimeError, match='unavailable with torch 2.0.0'):
        stub.QConfigHandler(dict())
    # a second call leaves the installed module alone
    assert compat.install_mmrazor_quantization_stub() is False
    assert sys.modules[compat.QUANT_MODULE] is stub


class RecordingSafeGlobals:
    """``add_safe_globals`` of torch 2.4/2.5 or >= 2.6, recording names."""

    def __init__(self, take_names: bool) -> None:
        self.take_names = take_names
        self.names = {}

    def __call__(self, safe_globals: list) -> None:
        for entry in safe_globals:
            if isinstance(entry, tuple):
                assert self.take_names, f'torch 2.4/2.5 break on {entry}'
                obj, name = entry
            else:  # what torch 2.4/2.5 do with every entry
                obj, name = entry, f'{entry.__module__}.{entry.__name__}'
            self.names[name] = obj


def test_no_allowlist_below_torch_2_4(monkeypatch):
    monkeypatch.setattr(torch, '__version__', '2.1.2')
    monkeypatch.delattr(torch.serialization, 'add_safe_globals', raising=False)
    assert compat.allow_mmengine_checkpoints() is False


@pytest.mark.parametrize('version', ['2.4.1', '2.5.1'])
def test_allowlist_on_torch_2_4_and_2_5_has_plain_entries(
        monkeypatch, version):
    monkeypatch.setattr(torch, '__version__', version)
    add = RecordingSafeGlobals(take_names=False)
    monkeypatch.setattr(
        torch.serialization, 'add_safe_globals', add, raising=False)
    assert compat.allow_mmengine_checkpoints() is True
    from numpy.core import multiarray
    assert add.names['mmengine.logging.history_buffer.HistoryBuffer'] is \
        HistoryBuffer
    assert add.names[f'{multiarray._reconstruct.__module__}._reconstruct'] \
        is multiarray._reconstruct
    assert add.names['numpy.ndarray'] is np.ndarray
    assert 'builtins.getattr' not in add.names
    assert compat.history_buffer_getattr not in add.names.values()


@pytest.mark.parametrize('version', ['2.6.0', '2.13.0+cpu'])
def test_allowlist_from_torch_2_6_maps_getattr(monkeypatch, version):
    monkeypatch.setattr(torch, '__version__', version)
    add = RecordingSafeGlobals(take_names=True)
    monkeypatch.setattr(
        torch.serialization, 'add_safe_globals', add, raising=False)
    assert compat.allow_mmengine_checkpoints() is True
    assert add.names['builtins.getattr'] is compat.history_buffer_getattr
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        assert f'{module}._reconstruct' in add.names
        assert f'{module}.scalar' in add.names
    assert add.names['mmengine.logging.history_buffer.HistoryBuffer'] is \
        HistoryBuffer
