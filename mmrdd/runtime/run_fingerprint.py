# Copyright (c) mmrdd contributors. All rights reserved.
"""What a run is, for comparing a resumed run with its checkpoint.

A run's *fingerprint* holds what determines its result beyond the
schedule: the content hash of the frozen teacher's weights, the resolved
``model`` config (the distiller's losses and their weights, ``switch_iter``,
the student, ...) and the names and shapes of the trainable parameters.
:class:`~mmrdd.runtime.RunFingerprintHook` stores it in every checkpoint's
``meta`` (under :data:`META_KEY`) and compares it on ``--resume``; this
module holds the plain functions.
"""
import hashlib
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from mmengine.config import Config
from torch import nn

#: The key of the fingerprint in a checkpoint's ``meta``.
META_KEY = 'mmrdd_run'
#: What ``resume_allow_changes`` may name, in the order differences are
#: reported.
CHANGES = ('teacher_ckpt', 'switch_iter', 'distiller', 'model',
           'trainable_parameters')
#: The teacher's entries in a distillation model's state dict (MMRazor).
TEACHER_PREFIX = 'teacher.'
#: ``model`` config keys that do not change what is trained: the teacher
#: file is compared by the content hash of its weights instead of its path;
#: the others only decide whether a run stops.
UNCOMPARED = ('model.teacher_ckpt', 'model.download_timeout',
              'model.check_teacher_finite', 'model.check_labels')
SWITCH_KEY = 'model.distiller.switch_iter'


class ResumeMismatchError(RuntimeError):
    """A ``--resume`` that would not continue the checkpoint's run."""


def state_dict_sha256(state_dict: Mapping[str, torch.Tensor],
                      prefix: str = '') -> Optional[str]:
    """sha256 of the tensors of ``state_dict`` whose keys start with
    ``prefix``.

    Each entry contributes its key (``prefix`` removed), dtype, shape and
    bytes, in key order; the result does not depend on the device or on
    the file the weights came from.

    Args:
        state_dict (Mapping[str, Tensor]): A model's or a checkpoint's
            state dict.
        prefix (str): Only keys starting with it. Defaults to ``''`` (all).

    Returns:
        str, optional: The hex digest; None when no key starts with
        ``prefix``.
    """
    keys = sorted(k for k in state_dict if k.startswith(prefix))
    if not keys:
        return None
    sha = hashlib.sha256()
    for key in keys:
        tensor = state_dict[key].detach().cpu().contiguous().reshape(-1)
        sha.update(f'{key[len(prefix):]}|{tensor.dtype}|'
                   f'{tuple(state_dict[key].shape)}|'.encode())
        sha.update(tensor.view(torch.uint8).numpy().tobytes())
    return sha.hexdigest()


def flat_config(value: Any, prefix: str = 'model') -> Dict[str, Any]:
    """A config subtree as ``{'dotted.key': leaf}`` (list items by index).

    Args:
        value: A config value (dicts, lists, tuples, leaves).
        prefix (str): The key of ``value``. Defaults to ``'model'``.

    Returns:
        dict: Leaves by dotted key; tuples become lists, an empty dict or
        list is a leaf, and a leaf that is not a number, string, bool or
        None is kept as its ``repr``.
    """
    if isinstance(value, Mapping) and value:
        flat = {}
        for key, item in value.items():
            flat.update(flat_config(item, f'{prefix}.{key}'))
        return flat
    if isinstance(value, (list, tuple)) and value:
        flat = {}
        for i, item in enumerate(value):
            flat.update(flat_config(item, f'{prefix}.{i}'))
        return flat
    if isinstance(value, Mapping):
        return {prefix: {}}
    if isinstance(value, (list, tuple)):
        return {prefix: []}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {prefix: value}
    return {prefix: repr(value)}


def compared_config(model_cfg: Optional[Mapping]) -> Optional[Dict[str, Any]]:
    """:func:`flat_config` of a ``model`` config without :data:`UNCOMPARED`.

    Args:
        model_cfg (Mapping, optional): ``cfg.model``.

    Returns:
        dict, optional: None when there is no model config.
    """
    if model_cfg is None:
        return None
    if hasattr(model_cfg, 'to_dict'):
        model_cfg = model_cfg.to_dict()
    return {
        k: v
        for k, v in flat_config(model_cfg).items() if k not in UNCOMPARED
    }


def trainable_parameters(model: nn.Module) -> Dict[str, List[int]]:
    """Names and shapes of the parameters the optimizer trains.

    Args:
        model (nn.Module): The (unwrapped) model.

    Returns:
        dict: ``{name: shape}`` of the parameters with ``requires_grad``.
    """
    return {
        name: list(param.shape)
        for name, param in model.named_parameters() if param.requires_grad
    }


def legacy_fingerprint(checkpoint: Mapping) -> dict:
    """The fingerprint of a checkpoint saved without one.

    The config comes from ``meta['cfg']`` (MMEngine saves the run's config
    there), the teacher from the checkpoint's ``teacher.*`` weights; the
    trainable parameters are unknown (not compared).

    Args:
        checkpoint (Mapping): A loaded MMEngine checkpoint.

    Returns:
        dict: ``config`` (None when ``meta['cfg']`` is absent or does not
        parse), ``teacher`` (None without teacher weights) and
        ``trainable`` (None).
    """
    meta = checkpoint.get('meta') or {}
    config = None
    if isinstance(meta.get('cfg'), str):
        try:
            cfg = Config.fromstring(meta['cfg'], file_format='.py')
        except Exception:  # noqa: BLE001  (an old or odd config text)
            cfg = None
        if cfg is not None:
            config = compared_config(cfg.get('model'))
    sha = state_dict_sha256(
        checkpoint.get('state_dict') or {}, prefix=TEACHER_PREFIX)
    teacher = None if sha is None else dict(
        sha256=sha, ckpt=None, in_checkpoint=True)
    return dict(config=config, teacher=teacher, trainable=None, changes=[])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def _listed(lines: List[str], limit: int = 6) -> str:
    more = len(lines) - limit
    return '; '.join(
        lines[:limit]) + (f'; ... and {more} more' if more > 0 else '')


def _config_lines(old: Dict[str, Any],
                  new: Dict[str, Any]) -> List[Tuple[str, str]]:
    lines = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            lines.append((key, f'{key}={_short(old[key])} removed'))
        elif key not in old:
            lines.append((key, f'{key}={_short(new[key])} added'))
        elif old[key] != new[key]:
            lines.append(
                (key, f'{key}: {_short(old[key])} -> {_short(new[key])}'))
    return lines


def _category(key: str) -> str:
    if key == SWITCH_KEY:
        return 'switch_iter'
    if key.startswith('model.distiller.'):
        return 'distiller'
    return 'model'


def _stage(iteration: int, switch_iter: Any) -> str:
    if not isinstance(switch_iter, int):
        return '?'
    return 'TFE' if iteration < switch_iter else 'TSE'


def _teacher_name(teacher: Mapping) -> str:
    ckpt = teacher.get('ckpt')
    where = f'{ckpt}, ' if ckpt else ''
    return f"{where}weights sha256 {teacher['sha256'][:16]}"


def fingerprint_differences(saved: Mapping, current: Mapping,
                            iteration: int) -> Dict[str, str]:
    """What differs between a checkpoint's run and the run resuming it.

    Args:
        saved (Mapping): The checkpoint's fingerprint (or
            :func:`legacy_fingerprint`); ``None`` parts are not compared.
        current (Mapping): This run's fingerprint.
        iteration (int): The checkpoint's iteration (the next to train).

    Returns:
        dict[str, str]: A description by :data:`CHANGES` name, in that
        order; empty when the runs agree.
    """
    found: Dict[str, str] = {}
    old_t, new_t = saved.get('teacher'), current.get('teacher')
    if old_t and new_t and old_t['sha256'] != new_t['sha256']:
        found['teacher_ckpt'] = (
            f'the checkpoint was trained with the teacher '
            f'{_teacher_name(old_t)}; this run\'s teacher is '
            f'{_teacher_name(new_t)}')
    old_c, new_c = saved.get('config'), current.get('config')
    if old_c is not None and new_c is not None:
        by_category: Dict[str, List[str]] = {}
        for key, line in _config_lines(old_c, new_c):
            by_category.setdefault(_category(key), []).append(line)
        if 'switch_iter' in by_category:
            old_s, new_s = old_c.get(SWITCH_KEY), new_c.get(SWITCH_KEY)
            before, after = _stage(iteration, old_s), _stage(iteration, new_s)
            stage = (f'iteration {iteration} is in {before} with the '
                     f'checkpoint\'s switch_iter and in {after} with this '
                     f'run\'s')
            if before == 'TSE' and after == 'TFE':
                stage += ' (the stages would go TSE -> TFE)'
            found['switch_iter'] = f'{_short(old_s)} -> {_short(new_s)}: ' \
                f'{stage}'
        for name in ('distiller', 'model'):
            if name in by_category:
                found[name] = _listed(by_category[name])
    old_p, new_p = saved.get('trainable'), current.get('trainable')
    if old_p is not None and new_p is not None and old_p != new_p:
        lines = [
            f'{k} {tuple(new_p[k])} added' for k in new_p if k not in old_p
        ]
        lines += [
            f'{k} {tuple(old_p[k])} removed' for k in old_p if k not in new_p
        ]
        lines += [
            f'{k}: {tuple(old_p[k])} -> {tuple(new_p[k])}' for k in new_p
            if k in old_p and old_p[k] != new_p[k]
        ]
        found['trainable_parameters'] = _listed(lines, limit=4)
    return {name: found[name] for name in CHANGES if name in found}


def mismatch_message(checkpoint_path: str, iteration: int,
                     refused: Mapping[str, str]) -> str:
    """The error of a refused resume: each difference and the ways out.

    Args:
        checkpoint_path (str): The checkpoint being resumed.
        iteration (int): Its iteration.
        refused (Mapping[str, str]): Descriptions by :data:`CHANGES` name.

    Returns:
        str: The message.
    """
    lines = '\n'.join(f'  - {name}: {text}' for name, text in refused.items())
    names = ','.join(f"'{name}'" for name in refused)
    return (
        f'cannot resume from {checkpoint_path} (iteration {iteration}): '
        f'this run differs from the run that trained it in what determines '
        f'the result:\n{lines}\n'
        'Either resume with the settings the checkpoint was trained with '
        '(the same config and --cfg-options as that run), or start a new '
        f'run from these weights: --cfg-options load_from={checkpoint_path} '
        'without --resume (iteration 0, a new optimizer and schedule). To '
        'resume with the changes anyway: --resume --cfg-options '
        f'"resume_allow_changes=[{names}]".')
