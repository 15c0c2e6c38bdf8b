# Copyright (c) mmrdd contributors. All rights reserved.
"""Content keys of the toy training runs: when may a finished run be reused?

A run of the demo or the seeds tool is ``tools/train.py CONFIG
--cfg-options ...``. Some options are paths (the teacher checkpoint, the
student's initial weights, the data set); a path says nothing about what is
there now: re-training the teacher in place keeps its path. The fingerprint
of a run therefore keys

* the config by the SHA-256 of its resolved content (every key the MMEngine
  ``Runner`` reads, after inheritance; helper variables of the config files
  only count through what they resolve into),
* every path option by the SHA-256 of what it points at: the tensors of a
  checkpoint (names, dtypes, shapes and bytes; not the file's bytes, which
  change with the file name ``torch.save`` was given), the image and label
  bytes of a toy data set (every split, as
  :func:`mmrdd.datasets.toy_generator.dataset_checksum` hashes them),
* the other options by their text, the validation interval included (the
  first validation draws from torch's global RNG, so a run validated during
  training draws other dropout masks afterwards: measured, weights differ
  after 2 more iterations), and the thread count of the training process
  (CPU results depend on it; one thread gives the same weights run after
  run).

A finished run is reused only when its stored fingerprint equals the new
one; :func:`fingerprint_changes` says in words what differs.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

#: Option keys (by suffix) whose value is a path, with what the path holds;
#: the fingerprint keys them by content.
PATH_OPTIONS = (
    ('teacher_ckpt', 'the teacher checkpoint'),
    ('init_cfg.checkpoint', 'the initial weights'),
    ('data_root', 'the data set'),
)
#: The top-level config keys a training run reads (MMEngine's
#: ``Runner.from_cfg`` and the ``custom_imports`` / ``teacher_check`` of
#: mmrdd); the rest of a resolved config are helper variables.
RUN_KEYS = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader',
            'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
            'optim_wrapper', 'param_scheduler', 'val_evaluator',
            'test_evaluator', 'default_hooks', 'custom_hooks',
            'data_preprocessor', 'load_from', 'resume', 'env_cfg',
            'log_processor', 'log_level', 'visualizer', 'default_scope',
            'randomness', 'custom_imports', 'teacher_check')


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes (what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def state_dict_sha256(state_dict: Dict) -> str:
    """SHA-256 of a state dict's tensors, in key order.

    Args:
        state_dict (dict): Parameter and buffer names to tensors.

    Returns:
        str: The hex digest over every name, dtype, shape and the raw bytes
        of every tensor: equal for equal weights, whatever file they were
        saved in.
    """
    import torch
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        value = state_dict[key]
        if not isinstance(value, torch.Tensor):
            raise TypeError(f'state dict entry {key!r} is a '
                            f'{type(value).__name__}, not a tensor')
        value = value.detach().cpu().contiguous()
        digest.update(f'{key}|{value.dtype}|{tuple(value.shape)}|'.encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def checkpoint_sha256(path: str) -> str:
    """SHA-256 of the weights in a checkpoint file.

    Args:
        path (str): A ``.pth`` file, either a state dict or a dict with a
            ``state_dict`` (MMEngine's checkpoints).

    Returns:
        str: :func:`state_dict_sha256` of its weights.
    """
    import torch

    import mmrdd  # noqa: F401  (MMEngine's checkpoint types, safely loaded)
    checkpoint = torch.load(path, map_location='cpu')
    return state_dict_sha256(checkpoint.get('state_dict', checkpoint))


def dataset_sha256(data_root: str) -> str:
    """SHA-256 of a toy data set's content: the checksums of its splits.

    Args:
        data_root (str): The data set's root (``img_dir/<split>`` and
            ``ann_dir/<split>``).

    Returns:
        str: The hex digest of ``split:checksum`` for every split folder
        present, each checksum over the split's image and label bytes.
    """
    from mmrdd.datasets.toy_generator import SPLITS, dataset_checksum
    img_root = osp.join(data_root, 'img_dir')
    if not osp.isdir(img_root):
        raise FileNotFoundError(
            f'no data set at {data_root} (no img_dir/): generate it with '
            f'python tools/misc/make_toy_dataset.py --out {data_root}')
    digest = hashlib.sha256()
    for split in SPLITS:
        if osp.isdir(osp.join(img_root, split)):
            checksum = dataset_checksum(data_root, split)
            digest.update(f'{split}:{checksum};'.encode())
    return digest.hexdigest()


def config_sha256(config: str) -> str:
    """SHA-256 of a config's resolved content (:data:`RUN_KEYS`).

    Args:
        config (str): A config file.

    Returns:
        str: The hex digest of the sorted JSON of the keys a run reads.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(config).to_dict()
    content = {key: cfg[key] for key in RUN_KEYS if key in cfg}
    text = json.dumps(content, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _path_option(key: str) -> Optional[str]:
    """What a path option points at (:data:`PATH_OPTIONS`), or None."""
    for suffix, what in PATH_OPTIONS:
        if key == suffix or key.endswith('.' + suffix):
            return what
    return None


def run_fingerprint(config: str,
                    options: Sequence[str],
                    threads: Optional[int],
                    root: str = '.') -> Dict:
    """The content key of one training run.

    Args:
        config (str): The run's config, relative to ``root`` or absolute.
        options (Sequence[str]): Its ``--cfg-options`` (``key=value``).
        threads (int, optional): ``OMP_NUM_THREADS`` of the training
            process; None when inherited.
        root (str): What relative paths (the config, path options) are
            relative to. Defaults to the current directory.

    Returns:
        dict: ``config`` (the path as given), ``config_sha256``,
        ``contents`` {path option key: SHA-256 of its content}, ``options``
        (the other options, in order) and ``threads``.
    """
    contents, plain = {}, []
    for option in options:
        key, sep, value = option.partition('=')
        if not sep:
            raise ValueError(f'option {option!r} is not key=value')
        what = _path_option(key)
        if what is None:
            plain.append(option)
            continue
        path = value if osp.isabs(value) else osp.join(root, value)
        if what == 'the data set':
            contents[key] = dataset_sha256(path)
        else:
            contents[key] = checkpoint_sha256(path)
    config_path = config if osp.isabs(config) else osp.join(root, config)
    return dict(
        config=config,
        config_sha256=config_sha256(config_path),
        contents=contents,
        options=plain,
        threads=threads)


def fingerprint_changes(old: Optional[Dict], new: Dict) -> List[str]:
    """What differs between a stored fingerprint and a new one, in words.

    Args:
        old (dict, optional): The fingerprint a finished run stored; None
            for a run from before fingerprints.
        new (dict): The fingerprint of the run about to be made.

    Returns:
        list[str]: One sentence per difference; empty when the finished run
        may be reused.
    """
    if not old:
        return [
            'it has no content fingerprint (trained by an older '
            'version of the tools)'
        ]
    changes = []
    if old.get('config') != new['config']:
        changes.append(f'the config is {new["config"]}, not '
                       f'{old.get("config")}')
    elif old.get('config_sha256') != new['config_sha256']:
        changes.append(f'the config {new["config"]} changed (resolved '
                       f'content sha256 {_short(old.get("config_sha256"))} '
                       f'-> {_short(new["config_sha256"])})')
    old_contents = old.get('contents', {})
    changed: Dict[tuple, List[str]] = {}  # (what, before, after) -> keys
    for key in sorted(set(old_contents) | set(new['contents'])):
        before, after = old_contents.get(key), new['contents'].get(key)
        if before != after:
            what = (_path_option(key), _short(before), _short(after))
            changed.setdefault(what, []).append(key)
    for (what, before, after), keys in changed.items():
        changes.append(f'{what} changed: sha256 {before} -> {after} '
                       f'({", ".join(keys)})')
    removed = [o for o in old.get('options', []) if o not in new['options']]
    added = [o for o in new['options'] if o not in old.get('options', [])]
    if removed or added or old.get('options') != new['options']:
        diff = ', '.join(['-' + o for o in removed] + ['+' + o for o in added])
        changes.append('the options changed' +
                       (f' ({diff})' if diff else ' (their order)'))
    if old.get('threads') != new['threads']:
        changes.append(f'the training threads changed ({old.get("threads")} '
                       f'-> {new["threads"]}; CPU results depend on them)')
    return changes


def _short(digest: Optional[str]) -> str:
    """The first 12 hex digits of a digest, or ``none``."""
    return digest[:12] if digest else 'none'


def read_json(path: str) -> Optional[Dict]:
    """A JSON file, or None when it is missing or unreadable."""
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path: str, data: Dict) -> None:
    """Write JSON atomically (a temporary file, then a rename)."""
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)
