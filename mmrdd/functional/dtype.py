# Copyright (c) mmrdd contributors. All rights reserved.
"""The dtype a loss computes in."""
import torch
from torch import Tensor


def at_least_float32(x: Tensor) -> Tensor:
    """``x`` in float32, or float64 if it is float64 already.

    Half and bfloat16 inputs (mixed precision) are raised to float32;
    float64 is kept, so that a float64 reference computation can be compared
    with the loss at float64 precision.

    Args:
        x (Tensor): Any floating tensor.

    Returns:
        Tensor: ``x`` as float32 or float64.
    """
    return x if x.dtype == torch.float64 else x.float()
