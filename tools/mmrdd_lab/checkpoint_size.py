# Copyright (c) mmrdd contributors. All rights reserved.
"""How much of a distillation checkpoint is the frozen teacher.

For a config, the model is built (``teacher_ckpt`` dropped: no download, no
weights needed for sizes) and the two checkpoint bodies are serialised in
memory: the state dict and the SGD momentum of the trainable parameters
(what the optimizer state holds after the first step), with the teacher's
``teacher.*`` entries (what MMEngine saves) and without them (what
:class:`~mmrdd.runtime.RunFingerprintHook` saves). A checkpoint file adds
``meta`` (the config text) and the message hub, a few tens of KB. For a
checkpoint file, its size on disk and the bytes of its teacher entries.
"""
import io
import os
from typing import Dict

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

TEACHER = 'teacher.'


def serialized_bytes(obj) -> int:
    """The size of ``torch.save(obj)``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.tell()


def tensor_bytes(state: Dict[str, torch.Tensor]) -> int:
    """Bytes of the tensors' data."""
    return sum(v.numel() * v.element_size() for v in state.values())


def build_model(cfg: Config) -> nn.Module:
    """The config's model, without loading ``teacher_ckpt``."""
    from mmrazor.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.copy()
    if 'teacher_ckpt' in model_cfg:
        model_cfg['teacher_ckpt'] = None
    return MODELS.build(model_cfg)


def model_checkpoint_bytes(model: nn.Module) -> Dict[str, int]:
    """Serialised bytes of state dict + momentum, with and without the
    teacher.

    Args:
        model (nn.Module): A built distillation model (or any model).

    Returns:
        dict: ``with_teacher``, ``without_teacher`` (serialised bytes),
        ``teacher_tensor_bytes``, ``momentum_tensor_bytes``.
    """
    state = model.state_dict()
    momentum = {
        name: torch.zeros_like(p)
        for name, p in model.named_parameters() if p.requires_grad
    }
    teacher = {k: v for k, v in state.items() if k.startswith(TEACHER)}
    rest = {k: v for k, v in state.items() if not k.startswith(TEACHER)}
    return dict(
        with_teacher=serialized_bytes(
            dict(state_dict=state, optimizer=momentum)),
        without_teacher=serialized_bytes(
            dict(state_dict=rest, optimizer=momentum)),
        teacher_tensor_bytes=tensor_bytes(teacher),
        momentum_tensor_bytes=tensor_bytes(momentum))


def checkpoint_file_bytes(path: str) -> Dict[str, int]:
    """A checkpoint file's size and the bytes of its teacher entries."""
    checkpoint = torch.load(path, map_location='cpu')
    state = checkpoint.get('state_dict', {})
    return dict(
        file_bytes=os.path.getsize(path),
        teacher_tensor_bytes=tensor_bytes(
            {k: v
             for k, v in state.items() if k.startswith(TEACHER)}))
