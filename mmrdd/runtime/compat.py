# Copyright (c) mmrdd contributors. All rights reserved.
"""Compatibility of the pinned OpenMMLab stack with torch >= 2.

Two small, targeted patches, applied by ``import mmrdd`` before anything
imports MMRazor. Neither touches site-packages; each is tested in
``tests/test_runtime/test_compat.py``.

1. **MMRazor quantization on torch >= 2** (open-mmlab/mmrazor#615):
   ``mmrazor.structures.quantization`` builds backend tables at import time
   from torch internals that torch 2 removed, so ``import mmrazor.models``
   (and ``mmrazor.engine``) fails. Distillation never uses them. An inert
   stand-in module is registered under that name before MMRazor is imported:
   the rest of MMRazor loads, and any use of quantization raises an error
   that says why it is unavailable.
2. **mmengine checkpoints on torch >= 2.6** (pytorch/pytorch#137451 changed
   the default of ``torch.load`` to ``weights_only=True``): checkpoints saved
   by MMEngine hold its ``HistoryBuffer`` (the message hub's logs) and numpy
   arrays/scalars, so resuming fails. Safe loading stays on; only those types
   are added to torch's allow-list with
   ``torch.serialization.add_safe_globals``: plain data containers that
   MMEngine itself writes into every checkpoint, whose unpickling runs no
   code of the file's choosing. ``HistoryBuffer``
   pickles its statistics methods as ``getattr(HistoryBuffer, 'mean')``;
   ``builtins.getattr`` is therefore mapped to a function that resolves
   exactly those names and refuses everything else. A checkpoint with any
   other global still fails to load, as torch intends.

Each patch branches on the torch version, and
``tests/test_runtime/test_compat.py`` runs every branch, the ones of other
torch releases with the version patched:

- torch < 2.0: MMRazor's quantization imports; no stand-in.
- torch 2.0 to 2.3: no ``add_safe_globals``, and ``torch.load`` is not
  ``weights_only`` by default, so MMEngine checkpoints load as they are.
- torch 2.4 and 2.5: ``add_safe_globals`` exists but reads every entry's
  ``__module__``/``__name__`` (the ``(obj, 'module.name')`` pairs arrived in
  2.6), so each type is added under its own name and ``builtins.getattr``
  stays refused, which matters only to explicit ``weights_only=True``
  loads.
- torch >= 2.6: all of the above.
"""
import pickle
import sys
import types
from typing import List

import numpy as np
import torch
from mmengine.utils import digit_version

QUANT_MODULE = 'mmrazor.structures.quantization'
QUANT_NAMES = ('BackendConfigs', 'QConfigHandler', 'QSchemeHandler',
               'get_native_backend_config', 'get_native_backend_config_dict',
               'get_academic_backend_config',
               'get_academic_backend_config_dict',
               'get_openvino_backend_config',
               'get_openvino_backend_config_dict',
               'get_tensorrt_backend_config',
               'get_tensorrt_backend_config_dict')
QUANT_ERROR = (
    'MMRazor quantization is unavailable with torch {version}: MMRazor 1.0.0 '
    'builds its quantization tables from torch internals removed in torch 2 '
    '(open-mmlab/mmrazor#615), so mmrdd replaced {module} with a stand-in to '
    'let the rest of MMRazor (distillation) import. Use torch < 2 for '
    'quantization.')


class _Unavailable:
    """Stands in for a quantization name; any use raises, saying why."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _fail(self, *args, **kwargs):
        raise RuntimeError(
            f'{self._name}: ' +
            QUANT_ERROR.format(version=torch.__version__, module=QUANT_MODULE))

    __call__ = _fail
    __getitem__ = _fail

    def __getattr__(self, item: str):
        if item.startswith('__'):
            raise AttributeError(item)
        self._fail()

    def __repr__(self) -> str:
        return f'<unavailable {QUANT_MODULE}.{self._name}>'


def needs_quantization_stub() -> bool:
    """Whether this torch breaks MMRazor's quantization tables."""
    return digit_version(torch.__version__) >= digit_version('2.0.0')


def install_mmrazor_quantization_stub() -> bool:
    """Register the inert ``mmrazor.structures.quantization`` stand-in.

    Returns:
        bool: True if installed now, False if not needed or too late (MMRazor
        already imported its real module, which then worked).
    """
    if not needs_quantization_stub() or QUANT_MODULE in sys.modules:
        return False
    stub = types.ModuleType(
        QUANT_MODULE,
        QUANT_ERROR.format(version=torch.__version__, module=QUANT_MODULE))
    stub.__path__ = []  # a package: submodule imports fail cleanly
    stub.__all__ = list(QUANT_NAMES)
    stub.MMRDD_STUB = True
    for name in QUANT_NAMES:
        setattr(stub, name, _Unavailable(name))
    sys.modules[QUANT_MODULE] = stub
    return True


def history_buffer_getattr(obj: object, name: str) -> object:
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    Stands in for ``builtins.getattr`` inside ``weights_only`` unpickling.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    from mmengine.logging import HistoryBuffer

    # the built-in methods are registered only when a buffer is created
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'mmrdd: refusing getattr({obj!r}, {name!r}) in a weights_only '
        'checkpoint (only HistoryBuffer statistics methods are allowed).')


def mmengine_checkpoint_globals() -> List:
    """The non-tensor types MMEngine writes into its checkpoints.

    numpy moved ``numpy.core`` to ``numpy._core`` in 2.0; checkpoints name
    the module of the numpy that saved them, so both spellings are listed.
    """
    from mmengine.logging import HistoryBuffer
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    safe: List = [
        HistoryBuffer, np.ndarray, np.dtype,
        (history_buffer_getattr, 'builtins.getattr')
    ]
    for func in (multiarray._reconstruct, multiarray.scalar):
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            safe.append((func, f'{module}.{func.__name__}'))
    # numpy >= 1.25 pickles dtypes by their class (np.dtypes.Float64DType).
    safe += list(
        dict.fromkeys(
            type(np.dtype(t)) for t in np.sctypeDict.values()
            if isinstance(t, type)))
    return safe


def safe_globals_take_names() -> bool:
    """Whether ``add_safe_globals`` takes ``(obj, 'module.name')`` pairs.

    torch 2.4 and 2.5 look up ``__module__`` and ``__name__`` of every entry
    of the allow-list, so a pair there breaks every ``weights_only`` load
    that meets a global outside torch's own list; 2.6 added the pairs.
    """
    return digit_version(torch.__version__) >= digit_version('2.6.0')


def allow_mmengine_checkpoints() -> bool:
    """Allow MMEngine's checkpoint types under ``weights_only`` loading.

    Returns:
        bool: True if the allow-list was extended (torch >= 2.4; on 2.4 and
        2.5 without the renamed entries, see :func:`safe_globals_take_names`).
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:
        return False
    safe = mmengine_checkpoint_globals()
    if not safe_globals_take_names():
        # each object under its own name; builtins.getattr stays refused
        plain: List = []
        for entry in safe:
            if isinstance(entry, tuple):
                if entry[0] is history_buffer_getattr:
                    continue
                entry = entry[0]
            if entry not in plain:
                plain.append(entry)
        safe = plain
    add(safe)
    return True


def apply_patches() -> None:
    """Apply every patch of this module (idempotent)."""
    install_mmrazor_quantization_stub()
    allow_mmengine_checkpoints()
