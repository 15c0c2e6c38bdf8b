# Copyright (c) mmrdd contributors. All rights reserved.
"""Read a checkpoint safely, say what it is, load the right part strictly.

MMEngine's loaders only log missing and unexpected keys, so a checkpoint of
another model (a raw distillation checkpoint given to a student config, a
student checkpoint given as ``load_from`` of a distillation run) silently
leaves a randomly initialised model, which is then scored or trained. And
torch's errors for a file that is not a checkpoint (an image, a text file,
an empty or truncated file) either say nothing useful or advise
``weights_only=False``, which would run the pickle of a file nobody checked.

Here a checkpoint is read with safe loading only (:func:`read_checkpoint`,
every failure named with its fix), recognised as one of three kinds
(:func:`checkpoint_kind`):

* ``'distillation'`` -- MMRazor's algorithm: the student under
  ``architecture.``, the teacher under ``teacher.`` (absent from a
  teacher-free save), the distiller's own weights under ``distiller.``;
* ``'student'`` -- a distilled student converted for plain MMSeg
  (:func:`~mmrdd.runtime.kd_to_student_checkpoint`, ``mmrdd-convert``);
* ``'segmentor'`` -- any other MMSeg segmentor checkpoint (a published
  teacher, a run of MMSeg's own ``tools/train.py``);

and :func:`load_weights` loads into a segmentor or a distillation algorithm
the part that belongs there, with every tensor accounted for.
"""
import os.path as osp
import pickle
import re
import zipfile
from typing import Any, Dict, Optional, Tuple

import torch
from torch import nn

from .download import download_checkpoint

#: Prefix of the student's weights in a distillation checkpoint.
STUDENT_PREFIX = 'architecture.'
#: Prefix of the teacher's weights in a distillation checkpoint.
TEACHER_PREFIX = 'teacher.'
#: ``meta`` key that marks a student converted by mmrdd.
STUDENT_META_KEY = 'mmrdd_student_of'

KIND_NAMES = {
    'distillation': 'a distillation checkpoint',
    'student': 'a distilled student (converted)',
    'segmentor': 'a segmentor checkpoint',
}

CONVERTER = 'tools/model_converters/convert_kd_ckpt_to_student.py'

# First bytes of files that are often given by mistake.
_MAGIC = (
    (b'\x89PNG', 'a PNG image'),
    (b'\xff\xd8\xff', 'a JPEG image'),
    (b'GIF8', 'a GIF image'),
    (b'%PDF', 'a PDF document'),
    (b'\x1f\x8b', 'a gzip archive (unpack it first)'),
    (b'version https://git-lfs', 'a Git LFS pointer, not the file itself '
     '(run `git lfs pull` where it comes from)'),
)


def file_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be a PyTorch checkpoint, from its first bytes.

    Only cheap checks: the size, the first bytes, and the end of a zip file
    (``torch.save``'s format since torch 1.6); what passes is read by
    :func:`read_checkpoint`.

    Args:
        path (str): An existing file.

    Returns:
        str, optional: E.g. ``'empty (0 bytes)'``, ``'a PNG image'``; None
        when the file may be a checkpoint.
    """
    size = osp.getsize(path)
    if size == 0:
        return 'empty (0 bytes)'
    with open(path, 'rb') as f:
        head = f.read(64)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head.startswith(b'PK'):
        if not zipfile.is_zipfile(path):
            return (f'truncated ({size} bytes, a zip file without its end: '
                    'the copy or download was cut short)')
        return None
    if head.startswith(b'\x80'):  # a pickle: torch's legacy format
        return None
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        text = ''
    if not text or not all(c.isprintable() or c.isspace() for c in text):
        return f'of unknown content (it starts with bytes {head[:8]!r})'
    first = text.strip().splitlines()[0][:40] if text.strip() else ''
    if text.lstrip().lower().startswith(('<!doctype html', '<html')):
        return ('an HTML page (a download that saved an error or login '
                'page instead of the file?)')
    return f'a text file (it starts with "{first}")'


def fetch_url(url: str,
              what: str = 'checkpoint',
              timeout: Optional[float] = 60.0) -> str:
    """The local copy of an ``https://`` checkpoint, downloaded once.

    :func:`~mmrdd.runtime.download.download_checkpoint` fetches it into
    torch's hub cache with its own timeout; a failure says what to do.

    Args:
        url (str): The URL.
        what (str): What is loaded, for the messages. Defaults to
            ``'checkpoint'``.
        timeout (float, optional): Seconds the download may wait for the
            server (to connect, or for each read). Defaults to 60.

    Returns:
        str: The local file.

    Raises:
        ValueError: If the URL is not HTTPS.
        RuntimeError: If the download fails.
    """
    if not url.startswith('https://'):
        raise ValueError(
            f'{what} checkpoint "{url}": only https:// URLs (or local '
            'paths) are accepted, so the download is authenticated.')
    try:
        return download_checkpoint(url, timeout)
    except Exception as exc:  # network errors come in many types
        raise RuntimeError(
            f'could not download the {what} checkpoint {url} '
            f'({type(exc).__name__}: {exc}). Download it where there is '
            'internet access and give the local file instead.') from exc


def _refused_global(message: str) -> Optional[str]:
    """The global that a ``weights_only`` load refused, from torch's text."""
    found = re.search(r'GLOBAL ([\w.]+)', message)
    return found.group(1) if found else None


def read_checkpoint(filename: str,
                    what: str = 'checkpoint',
                    download_timeout: Optional[float] = 60.0) -> Dict:
    """Read a checkpoint with safe loading, or fail with what to do.

    Nothing of the file runs: it is loaded with ``weights_only=True`` (and
    the MMEngine types of :mod:`mmrdd.runtime.compat` allowed). A file that
    is missing, empty, truncated, an image, a text or HTML file, or that
    holds other Python objects gets an error that names the file, what it
    is and the fix -- never the advice to load it unsafely.

    Args:
        filename (str): A local path, or an ``https://`` URL (downloaded
            once into torch's hub cache).
        what (str): The file's role, for the messages (``'teacher'``,
            ``'load_from'``, ...). Defaults to ``'checkpoint'``.
        download_timeout (float, optional): Seconds the download of a URL
            may wait for the server. Defaults to 60.

    Returns:
        dict: The checkpoint, with a ``state_dict`` of tensors (a file that
        is a bare state dict is returned as ``{'state_dict': ...}``).

    Raises:
        FileNotFoundError: A local path that does not exist (or a folder:
            ``IsADirectoryError``).
        ValueError: A URL that is not HTTPS, or a file that is not a
            checkpoint.
        RuntimeError: A failed download, or a file that safe loading
            refuses or cannot read.
    """
    if not filename:
        raise ValueError(
            f'{what} checkpoint is an empty string: give the path of a .pth '
            'file, or leave the option out.')
    source = filename
    if '://' in filename:
        path = fetch_url(filename, what, download_timeout)
        source = f'{filename} (cached as {path})'
        fix = f'delete {path} and run again to download it anew'
    else:
        path = filename
        if osp.isdir(path):
            raise IsADirectoryError(
                f'{what} checkpoint "{filename}" is a folder: give the .pth '
                'file in it (for a work dir, the iter_N.pth named in its '
                'last_checkpoint file).')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{what} checkpoint "{filename}" does not exist: give the '
                'path of an existing .pth file' +
                (' (for the teacher of a config: --cfg-options '
                 'model.teacher_ckpt=PATH).' if what == 'teacher' else '.'))
        fix = 'copy or download it again'
    problem = file_problem(path)
    if problem is not None:
        raise ValueError(
            f'{what} checkpoint {source} is {problem}, not a PyTorch '
            f'checkpoint: give the .pth file that training saved ({fix}).')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = _refused_global(str(exc))
        if refused is None:
            raise RuntimeError(
                f'{what} checkpoint {source} cannot be read: it is damaged '
                f'or not a PyTorch checkpoint ({_reason(exc)}); {fix}.'
            ) from None
        raise RuntimeError(
            f'{what} checkpoint {source} holds Python objects of type '
            f'{refused}, besides tensors; mmrdd loads checkpoints without '
            'running code from them, so it refuses the file. Save the '
            'weights alone where the file was made, e.g. '
            "torch.save({'state_dict': model.state_dict()}, 'weights.pth'), "
            'and give that file.') from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise RuntimeError(
            f'{what} checkpoint {source} cannot be read: it is damaged or '
            f'truncated ({_reason(exc)}); {fix}.') from None
    return _as_checkpoint(checkpoint, source, what)


def _reason(exc: BaseException) -> str:
    """torch's own reason, without its advice to load unsafely."""
    text = str(exc)
    inner = re.search(r'WeightsUnpickler error: (.*)', text)
    if inner:
        text = inner.group(1)
    text = text.split('  (Could this error message be improved?')[0]
    return f'{type(exc).__name__}: {text.strip().splitlines()[0][:200]}'


def _as_checkpoint(checkpoint: Any, source: str, what: str) -> Dict:
    """A checkpoint dict with a ``state_dict`` of tensors, or an error."""
    if not isinstance(checkpoint, dict):
        raise ValueError(
            f'{what} checkpoint {source} holds a '
            f'{type(checkpoint).__name__}, not a dict of weights: save '
            "torch.save({'state_dict': model.state_dict()}, PATH) instead.")
    if 'state_dict' not in checkpoint:
        if checkpoint and all(
                isinstance(v, torch.Tensor) for v in checkpoint.values()):
            checkpoint = dict(state_dict=checkpoint)  # a bare state dict
        else:
            raise ValueError(
                f'{what} checkpoint {source} has no "state_dict" (its keys: '
                f'{", ".join(map(str, list(checkpoint)[:6]))}): give a '
                'checkpoint saved by MMEngine/MMSeg, or a dict of tensors.')
    state = checkpoint['state_dict']
    if not isinstance(state, dict) or not state:
        raise ValueError(f'{what} checkpoint {source} has an empty or '
                         'malformed "state_dict": it holds no weights.')
    return checkpoint


def state_dict_of(checkpoint: Dict) -> Dict[str, torch.Tensor]:
    """The checkpoint's weights, without DataParallel's ``module.``."""
    return {(k[len('module.'):] if k.startswith('module.') else k): v
            for k, v in checkpoint['state_dict'].items()}


def checkpoint_kind(checkpoint: Dict) -> str:
    """``'distillation'``, ``'student'`` or ``'segmentor'``.

    Args:
        checkpoint (dict): As :func:`read_checkpoint` returns it.

    Returns:
        str: The kind (see the module's docstring).
    """
    if any(k.startswith(STUDENT_PREFIX) for k in state_dict_of(checkpoint)):
        return 'distillation'
    meta = checkpoint.get('meta')
    if isinstance(meta, dict) and meta.get(STUDENT_META_KEY):
        return 'student'
    return 'segmentor'


def is_distillation_model(model: nn.Module) -> bool:
    """Whether ``model`` is an MMRazor algorithm holding a student
    (``architecture``) and a teacher."""
    return isinstance(getattr(model, 'architecture', None),
                      nn.Module) and isinstance(
                          getattr(model, 'teacher', None), nn.Module)


def mismatch(module: nn.Module,
             state: Dict[str, torch.Tensor],
             skip: Optional[str] = None) -> Dict[str, list]:
    """Keys of ``module`` missing from ``state``, keys of ``state`` it does
    not have, and keys whose shapes differ (each sorted).

    Args:
        module (nn.Module): The model.
        state (dict[str, Tensor]): The weights meant for it.
        skip (str, optional): A prefix of ``module``'s keys that ``state``
            does not set (``'teacher.'``). Defaults to None.

    Returns:
        dict[str, list]: ``{'missing': [...], 'unexpected': [...],
        'shape mismatch': [...]}``, empty lists when it matches.
    """
    expected = {
        k: v
        for k, v in module.state_dict().items()
        if skip is None or not k.startswith(skip)
    }
    return {
        'missing':
        sorted(set(expected) - set(state)),
        'unexpected':
        sorted(set(state) - set(expected)),
        'shape mismatch':
        sorted(
            k for k in set(expected) & set(state)
            if tuple(expected[k].shape) != tuple(state[k].shape)),
    }


def describe_mismatch(found: Dict[str, list]) -> str:
    """``'missing (2): a, b; shape mismatch (1): c'`` (3 names each)."""
    return '; '.join(f'{kind} ({len(keys)}): {", ".join(keys[:3])}'
                     f'{", ..." if len(keys) > 3 else ""}'
                     for kind, keys in found.items() if keys)


def load_strictly(module: nn.Module,
                  state: Dict[str, torch.Tensor],
                  source: str,
                  what: str,
                  target: str,
                  hint: str = '',
                  skip: Optional[str] = None) -> int:
    """Load ``state`` into ``module`` when every key and shape matches.

    Args:
        module (nn.Module): The model (or the part of it) to load.
        state (dict[str, Tensor]): Its weights.
        source (str): The file, for the message.
        what (str): The file's role (``'teacher'``, ``'load_from'``).
        target (str): What ``module`` is (``'teacher model'``,
            ``'student'``).
        hint (str): A sentence to add to the error. Defaults to ``''``.
        skip (str, optional): A prefix of ``module``'s keys that keep their
            values. Defaults to None (every key is loaded).

    Returns:
        int: The number of tensors loaded.

    Raises:
        RuntimeError: Naming the missing, unexpected and mismatched keys.
    """
    found = mismatch(module, state, skip)
    if any(found.values()):
        raise RuntimeError(
            f'{what} checkpoint {source} does not match the {target}: '
            f'{describe_mismatch(found)}. Check that the config is the one '
            f'the checkpoint was trained with.{hint}')
    module.load_state_dict(state, strict=skip is None)
    return len(state)


def select_weights(
    model: nn.Module, checkpoint: Dict
) -> Tuple[nn.Module, Dict[str, torch.Tensor], Optional[str], str, str]:
    """The part of ``model`` that ``checkpoint`` initialises, and its
    weights.

    =================  ===============================  =================
    model              checkpoint kind                  loaded
    =================  ===============================  =================
    segmentor          segmentor, student               all of it
    segmentor          distillation                     its student
    distillation       distillation                     all but the teacher
    distillation       segmentor, student               the student
    =================  ===============================  =================

    The teacher of a distillation model always comes from its
    ``teacher_ckpt``, never from this file.

    Args:
        model (nn.Module): A segmentor or an MMRazor distillation algorithm
            (unwrapped).
        checkpoint (dict): As :func:`read_checkpoint` returns it.

    Returns:
        tuple: ``(module, state_dict, skip, target, part)``: the module to
        load, its weights, the prefix of its keys left as they are (see
        :func:`load_strictly`), what it is and which part of the file it
        gets (for the messages).
    """
    kind = checkpoint_kind(checkpoint)
    state = state_dict_of(checkpoint)
    distill = is_distillation_model(model)
    if kind == 'distillation' and distill:
        state = {
            k: v
            for k, v in state.items() if not k.startswith(TEACHER_PREFIX)
        }
        return (model, state, TEACHER_PREFIX, 'distillation model',
                'all but the teacher, which comes from model.teacher_ckpt')
    if kind == 'distillation':
        state = {
            k[len(STUDENT_PREFIX):]: v
            for k, v in state.items() if k.startswith(STUDENT_PREFIX)
        }
        return model, state, None, 'model', 'its student (architecture.*)'
    if distill:
        return (model.architecture, state, None,
                'student (model.architecture)', 'all of it')
    return model, state, None, 'model', 'all of it'


def load_weights(model: nn.Module,
                 checkpoint: Dict,
                 filename: str,
                 what: str = 'load_from') -> str:
    """Load the part of ``checkpoint`` that belongs in ``model``, strictly.

    See :func:`select_weights` for which part. Every tensor of that part of
    the model must come from the file, with the same shape; otherwise
    nothing is loaded and the error names the keys and, where it can, what
    the file is instead (the teacher's weights, a distillation checkpoint
    of other models).

    Args:
        model (nn.Module): A segmentor or an MMRazor distillation algorithm
            (unwrapped).
        checkpoint (dict): As :func:`read_checkpoint` returns it.
        filename (str): The file, for the messages.
        what (str): The file's role. Defaults to ``'load_from'``.

    Returns:
        str: What was loaded: the file, its kind, the part, the number of
        tensors.

    Raises:
        RuntimeError: If the weights do not match.
    """
    kind = checkpoint_kind(checkpoint)
    module, state, skip, target, part = select_weights(model, checkpoint)
    hint = ''
    teacher = getattr(model, 'teacher', None)
    if kind != 'distillation' and teacher is not None and not any(
            mismatch(teacher, state).values()):
        hint = (' These are the weights of the teacher: give the file as '
                'model.teacher_ckpt instead.')
    elif kind == 'distillation' and not is_distillation_model(model):
        hint = (' Its student (architecture.*) is not this config\'s model:'
                ' test it with the distillation config it was trained with'
                f', or convert it with {CONVERTER} and give the student '
                'config of that run.')
    count = load_strictly(module, state, filename, what, target, hint, skip)
    return (f'{what}: loaded {count} tensors from {filename} '
            f'({KIND_NAMES[kind]}; {part}) into the {target}')
