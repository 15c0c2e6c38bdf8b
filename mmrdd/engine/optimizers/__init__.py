# Copyright (c) mmrdd contributors. All rights reserved.
"""Optimizer wrappers of mmrdd."""
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper

__all__ = ['CPUAmpOptimWrapper']
