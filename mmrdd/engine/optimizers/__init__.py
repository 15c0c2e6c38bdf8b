"""Optimizer wrappers of mmrdd."""
from .rdd_cpu_amp_optim_wrapper import RDDCPUAmpOptimWrapper

__all__ = ['RDDCPUAmpOptimWrapper']
