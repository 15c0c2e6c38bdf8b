# Copyright (c) mmrdd contributors. All rights reserved.
"""Fixtures of the CUDA tests (marker ``cuda``): the ``device`` they run
on (:func:`_cuda_helpers.cuda_test_device`: CUDA, or a skip that says why,
or the CPU in the dry run) and the two autocast dtypes."""
import pytest
import torch
from _cuda_helpers import cuda_test_device


@pytest.fixture
def device() -> torch.device:
    """See :func:`_cuda_helpers.cuda_test_device`."""
    return cuda_test_device()


@pytest.fixture(params=['float16', 'bfloat16'])
def amp_dtype(request) -> torch.dtype:
    """float16 (the paper's mixed precision, ``AmpOptimWrapper``'s
    default) and bfloat16."""
    return getattr(torch, request.param)
