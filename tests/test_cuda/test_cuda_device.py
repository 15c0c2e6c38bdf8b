# Copyright (c) mmrdd contributors. All rights reserved.
"""Where the CUDA tests run: on CUDA; without it skipped with the reason,
failed under ``MMRDD_REQUIRE_CUDA=1`` (the GPU check), on the CPU under
``MMRDD_TEST_CUDA_ON_CPU=1`` (its dry run). Not marked ``cuda``: it runs
everywhere, the GPU made absent by monkeypatching."""
import pytest
import torch
from _cuda_helpers import NO_GPU, cuda_test_device


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.delenv('MMRDD_REQUIRE_CUDA', raising=False)
    monkeypatch.delenv('MMRDD_TEST_CUDA_ON_CPU', raising=False)
    return monkeypatch


def test_without_gpu_they_skip_saying_why(no_gpu):
    with pytest.raises(pytest.skip.Exception, match='needs a CUDA GPU'):
        cuda_test_device()
    assert 'tools/misc/gpu_check.sh' in NO_GPU


def test_the_gpu_check_fails_them_without_gpu(no_gpu):
    no_gpu.setenv('MMRDD_REQUIRE_CUDA', '1')
    no_gpu.setenv('MMRDD_TEST_CUDA_ON_CPU', '1')  # requiring wins
    with pytest.raises(pytest.fail.Exception, match='MMRDD_REQUIRE_CUDA=1'):
        cuda_test_device()


def test_the_dry_run_runs_them_on_the_cpu(no_gpu):
    no_gpu.setenv('MMRDD_TEST_CUDA_ON_CPU', '1')
    assert cuda_test_device() == torch.device('cpu')


def test_with_a_gpu_they_run_on_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setenv('MMRDD_TEST_CUDA_ON_CPU', '1')
    assert cuda_test_device() == torch.device('cuda')
