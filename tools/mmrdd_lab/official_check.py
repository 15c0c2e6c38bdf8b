# Copyright (c) mmrdd contributors. All rights reserved.
"""Shared pieces of ``tools/analysis_tools/check_official.py``.

The official code of a KD method is imported at run time from a checkout
given on the command line (never from this repository, which holds none of
it); one module per method (``official_<method>.py``) runs the official
losses and ours on the same seeded inputs and reports the differences with
:func:`difference`.
"""
import importlib.util
import os.path as osp
import subprocess
from types import ModuleType
from typing import Dict, Optional

import torch
from torch import Tensor


def import_official(root: str, relpath: str, repository: str) -> ModuleType:
    """Import one file of an official checkout as a module of its own.

    Args:
        root (str): The checkout (e.g. ``git -C MIRROR archive HEAD | tar
            -x -C DIR``).
        relpath (str): The file, relative to ``root``.
        repository (str): ``owner/name``, for the message.

    Returns:
        ModuleType: The executed module (not put in ``sys.modules``).

    Raises:
        FileNotFoundError: If ``root`` has no such file.
    """
    path = osp.join(root, relpath)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist: --official-root must be a checkout of '
            f'{repository} (e.g. git -C MIRROR archive HEAD | tar -x -C '
            'DIR).')
    name = 'official_' + relpath.replace('/', '_').replace('.', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def official_commit(root: str, given: Optional[str] = None) -> str:
    """The commit of the checkout: ``given``, else ``git rev-parse HEAD``.

    Raises:
        ValueError: If neither names a commit (an extracted archive has no
            ``.git``: pass ``--official-commit``).
    """
    if given:
        return given
    try:
        out = subprocess.run(['git', '-C', root, 'rev-parse', 'HEAD'],
                             capture_output=True,
                             text=True,
                             check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise ValueError(
            f'{root} is not a git checkout: give the commit it was '
            'extracted from with --official-commit SHA.') from None


def difference(official: Tensor, ours: Tensor) -> Dict[str, float]:
    """Maximum absolute and relative difference of two same-shape tensors.

    ``max_rel = max |ours - official| / max |official|``: for a scalar the
    relative error, for a gradient the error relative to its largest entry
    (entries near 0 would make an element-wise ratio meaningless).

    Args:
        official (Tensor): The official value or gradient.
        ours (Tensor): Ours, of the same shape.

    Returns:
        dict[str, float]: ``official`` and ``ours`` (scalars only),
        ``max_abs``, ``max_rel``.
    """
    if official.shape != ours.shape:
        raise ValueError(f'shapes differ: official {tuple(official.shape)}, '
                         f'ours {tuple(ours.shape)}')
    a, b = official.detach().double(), ours.detach().double()
    max_abs = (a - b).abs().max().item()
    scale = a.abs().max().item()
    out = dict(
        max_abs=max_abs,
        max_rel=max_abs / scale if scale > 0 else float(max_abs > 0))
    if a.numel() == 1:
        out = dict(official=a.item(), ours=b.item(), **out)
    return out


def seeded(*shape: int, seed: int, scale: float = 1.0) -> Tensor:
    """A float32 tensor of N(0, scale^2) entries from its own generator."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * scale


def worst(checks: Dict[str, Dict[str, Dict[str, float]]]) -> float:
    """The largest ``max_rel`` over every compared quantity."""
    return max(d['max_rel'] for check in checks.values()
               for d in check.values()
               if isinstance(d, dict) and 'max_rel' in d)
