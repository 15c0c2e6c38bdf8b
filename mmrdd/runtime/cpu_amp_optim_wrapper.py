# Copyright (c) mmrdd contributors. All rights reserved.
"""Automatic mixed precision on CPU: bfloat16 autocast, no loss scaling."""
from contextlib import contextmanager
from typing import Optional, Union

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmengine.runner.amp import autocast
from torch import nn


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """MMEngine's ``OptimWrapper`` that runs the forward in CPU autocast.

    MMEngine's ``AmpOptimWrapper`` (what ``tools/train.py --amp`` selects)
    asserts a GPU, NPU, MLU or MUSA device when it is built, and its loss
    scaler is CUDA's. On CPU, torch autocasts to bfloat16 only; bfloat16 has
    float32's exponent range, so gradients do not underflow and no loss
    scaling is needed (torch's CPU AMP recipe has none). This wrapper is that
    recipe: the data preprocessor and the forward run under
    ``autocast(device_type='cpu', dtype=torch.bfloat16)``, the backward and
    the update are plain ``OptimWrapper``'s. :func:`mmrdd.runtime.setup_amp`
    puts it in place of ``AmpOptimWrapper`` on machines without CUDA.

    Registered in MMEngine's root ``OPTIM_WRAPPERS``, next to
    ``AmpOptimWrapper``, so that every default scope finds it.

    Args:
        dtype (str | torch.dtype, optional): The autocast dtype; CPU autocast
            supports ``'bfloat16'`` only. Defaults to None (bfloat16).
        **kwargs: The arguments of ``OptimWrapper`` (``optimizer``,
            ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self,
                 dtype: Optional[Union[str, torch.dtype]] = None,
                 **kwargs) -> None:
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, dtype)
        if dtype not in (None, torch.bfloat16):
            raise ValueError(
                f'optim_wrapper.dtype={dtype!r}: CPU autocast supports '
                "bfloat16 only. Remove `dtype` or set dtype='bfloat16' "
                '(float16 mixed precision needs a GPU).')
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of the parent, in bf16 autocast.

        Args:
            model (nn.Module): The training model.
        """
        with super().optim_context(model), autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield


# The name in mmrdd 0.1 configs: the same class.
OPTIM_WRAPPERS.register_module(
    name='RDDCPUAmpOptimWrapper', module=CPUAmpOptimWrapper)
