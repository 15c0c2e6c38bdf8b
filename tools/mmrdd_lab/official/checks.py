# Copyright (c) mmrdd contributors. All rights reserved.
"""Checks reported as one difference per compared quantity.

The format of the ``check(root, seed)`` functions (:mod:`.maskd`): each
value or gradient compared is reduced by :func:`difference`, and the tool
reports the :func:`worst` of them. Loading the official code and naming its
commit are in :mod:`.common`.
"""
import json
from typing import Dict, List

import torch
from torch import Tensor


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


def summary_table(paths: List[str]) -> str:
    """The Markdown table of ``docs/kd_family.md`` that sums up the result
    files of ``tools/analysis_tools/check_official.py``.

    Args:
        paths (list[str]): ``official_<method>.json`` files, in the table's
            order.

    Returns:
        str: One row per file: the method, the official repository and
        commit, the largest relative difference of any value or gradient,
        the tolerance and whether it passed.
    """
    lines = [
        '| method | official code | largest relative difference | '
        'tolerance | passed |', '| --- | --- | ---: | ---: | --- |'
    ]
    for path in paths:
        with open(path) as f:
            result = json.load(f)
        if 'max_rel_diff' in result:  # the cases format (run functions)
            worst_rel = max(result['max_rel_diff'].values())
            tolerance = result['tolerance']['rel']
        else:  # the checks format (check functions)
            worst_rel, tolerance = result['max_rel'], result['tolerance']
        official = result['official']
        lines.append(
            f"| {result['method']} | {official['repository']} @ "
            f"{official['commit'][:7]} | {worst_rel:.1e} | {tolerance:g} | "
            f"{'yes' if result['passed'] else 'no'} |")
    return '\n'.join(lines)
