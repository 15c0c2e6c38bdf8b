# Copyright (c) mmrdd contributors. All rights reserved.
"""The fast tier of tests over every config (``make test-fast``).

A test run on each of the ~90 configs builds Cityscapes-size models; the
fast tier keeps the toy configs and a few real ones (the paper's reference
setting, a student, a teacher) and leaves the rest to ``make test`` (the
whole suite, what CI runs), marked ``slow``.
"""
import os.path as osp
from typing import Callable, Iterable, List, Optional

import pytest

#: the real configs every tier checks
FAST_CONFIGS = (
    'rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-'
    '512x1024',
    'deeplabv3_r18-d8_4xb4-40k_camvid-360x480',
    'deeplabv3_r101-d8_4xb4-40k_camvid-360x480',
)


def in_fast_tier(config: str) -> bool:
    """Whether the fast tier checks ``config`` (a path or a name): the toy
    configs and :data:`FAST_CONFIGS`."""
    name = osp.splitext(osp.basename(config))[0]
    return 'toy' in name or name in FAST_CONFIGS


def config_params(configs: Iterable[str],
                  ids: Optional[Callable[[str], str]] = None) -> List:
    """``configs`` as ``pytest.param``\\ s, those outside the fast tier
    marked ``slow``.

    Args:
        configs (Iterable[str]): Config paths or names.
        ids (Callable, optional): A config's test id. Defaults to the
            config itself.

    Returns:
        list: The parameters.
    """
    return [
        pytest.param(
            c,
            id=ids(c) if ids else c,
            marks=() if in_fast_tier(c) else pytest.mark.slow) for c in configs
    ]
