# Copyright (c) mmrdd contributors. All rights reserved.
"""MMRazor's ``cfg_path`` models, resolved into model dicts.

MMRazor builds ``dict(cfg_path='mmseg::x.py', **extra)`` with MMEngine's
``get_model``, which passes ``extra`` only as *default* arguments of the
segmentor: a key the referenced config already sets, or any nested key
(``backbone.init_cfg``, ``decode_head.norm_cfg``), is accepted and ignored.
So an inheriting config or ``--cfg-options`` could not turn off an ImageNet
download, switch SyncBN to BN, or change anything inside the student or the
teacher.

:func:`resolve_cfg_path` loads the referenced config's ``model`` (with its
top-level ``data_preprocessor``, as ``get_model`` does) and merges the other
keys over it with MMEngine's merge rules (nested dicts merge, ``_delete_``
replaces); :func:`check_override_keys` first stops on a key that neither the
referenced model nor the class at that level has. :func:`resolve_model_cfgs`
does this for every ``cfg_path`` dict of a config (``tools/train.py`` and
``tools/test.py``, so the dumped config shows the models in full), and
:class:`~mmrdd.models.FrozenTeacherDistill` for its student and teacher
(configs built without our tools).

``pretrained`` keeps MMRazor's meaning when it is a bool (True: start from
the weights MMSeg publishes for that config, as an ``init_cfg``); any other
value (None, a path) is the segmentor's own ``pretrained``, the ImageNet
backbone.
"""
import difflib
import inspect
from typing import Any, List, Optional, Set

from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS

from .config_scope import config_file

#: The keys of a ``cfg_path`` dict that are MMRazor's, not the model's.
CFG_PATH = 'cfg_path'
#: Dicts that builder helpers read and pop keys from (``requires_grad`` of
#: ``norm_cfg``): their keys are not checked against a class.
HELPER_CFGS = ('norm_cfg', 'act_cfg', 'conv_cfg', 'init_cfg')


def _plain(cfg: Any) -> Any:
    """A deep plain-``dict`` copy."""
    if isinstance(cfg, ConfigDict):
        return cfg.to_dict()
    if isinstance(cfg, dict):
        return {k: _plain(v) for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_plain(v) for v in cfg)
    return cfg


def referenced_config(cfg_path: str, pretrained: bool = False) -> Config:
    """The config that ``cfg_path`` names.

    Args:
        cfg_path (str): ``package::path`` (``mmseg::``, ``mmrdd::``), as
            MMRazor takes it, or the path of a config file.
        pretrained (bool): Also look up the published weights
            (``cfg.model_path``). Defaults to False.

    Returns:
        Config: The config.

    Raises:
        FileNotFoundError: If the config does not exist.
    """
    if '::' not in cfg_path:
        return Config.fromfile(config_file(cfg_path))
    from mmengine.hub import get_config
    try:
        return get_config(cfg_path, pretrained)
    except (FileNotFoundError, ValueError, KeyError, AssertionError) as exc:
        # MMEngine says FileNotFoundError/ValueError with a bare path
        raise FileNotFoundError(
            f'cfg_path "{cfg_path}" cannot be resolved '
            f'({type(exc).__name__}: {exc}): check the name against the '
            "package's configs folder" +
            (' and metafile (pretrained=True needs published weights)'
             if pretrained else '') + '.') from None


def init_arguments(cls: type) -> Optional[Set[str]]:
    """The keyword arguments ``cls(...)`` takes, through ``**kwargs`` that
    its ``__init__`` passes on to a parent; None when it takes any.

    Args:
        cls (type): A class.

    Returns:
        set[str], optional: The names, or None when the chain ends in
        ``**kwargs`` (anything is accepted).
    """
    names: Set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {
            p.name
            for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                          p.KEYWORD_ONLY) and p.name != 'self'
        }
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names
    return None


def _class_of(cfg: dict, scope: Optional[str]) -> Optional[type]:
    """The class ``cfg['type']`` names in ``MODELS`` of ``scope``, if any."""
    kind = cfg.get('type')
    if isinstance(kind, type):
        return kind
    if not isinstance(kind, str):
        return None
    scope = cfg.get('_scope_', scope)
    try:
        with MODELS.switch_scope_and_registry(scope) as registry:
            return registry.get(kind)
    except Exception:  # noqa: BLE001  (an unknown scope or type: no check)
        return None


def unknown_override_keys(override: dict,
                          base: dict,
                          scope: Optional[str],
                          prefix: str = '') -> List[str]:
    """Keys of ``override`` that cannot reach the model built from ``base``.

    A key is fine when ``base`` has it at that level, or when the class
    that ``base``'s ``type`` names there takes it as an argument (or takes
    any). Levels without a type, and the builder helpers' dicts
    (``norm_cfg``, ...), are not checked.

    Args:
        override (dict): The keys to merge over ``base``.
        base (dict): The model config.
        scope (str, optional): The registry scope of ``base``'s types.
        prefix (str): The dotted path of ``override``, for the messages.

    Returns:
        list[str]: One line per unknown key: its path and what it could
        have meant.
    """
    bad = []
    cls = _class_of(base, scope)
    accepted = init_arguments(cls) if cls is not None else None
    scope = base.get('_scope_', scope)
    for key, value in override.items():
        if key == '_delete_':
            continue
        path = f'{prefix}{key}'
        if key in base:
            if (isinstance(value, dict) and isinstance(base[key], dict)
                    and not value.get('_delete_') and key not in HELPER_CFGS):
                bad += unknown_override_keys(value, base[key], scope,
                                             f'{path}.')
            continue
        if cls is None or accepted is None or key in accepted:
            continue
        known = sorted(set(base) | accepted)
        close = difflib.get_close_matches(key, known, n=2)
        bad.append(f'{path}: {cls.__name__} has no argument "{key}"' +
                   (f' (did you mean {" or ".join(close)}?)' if close else ''))
    return bad


def check_override_keys(override: dict, base: dict, where: str,
                        source: str) -> None:
    """Stop when a key set over a ``cfg_path`` model cannot take effect.

    Args:
        override (dict): The keys given beside ``cfg_path``.
        base (dict): The referenced model config.
        where (str): The dotted path of the ``cfg_path`` dict
            (``'model.architecture'``).
        source (str): The referenced config file, for the message.

    Raises:
        ValueError: Naming every such key.
    """
    bad = unknown_override_keys(override, base, base.get('_scope_'),
                                f'{where}.')
    if bad:
        raise ValueError(
            f'{len(bad)} key(s) set over the model of {where}.cfg_path '
            'would have no effect: ' + '; '.join(bad) +
            f'. Fix the name; the model\'s keys are those of `model` in '
            f'{source}.')


def resolve_cfg_path(model: dict, where: str = 'model') -> ConfigDict:
    """The model dict that a ``cfg_path`` dict stands for.

    Args:
        model (dict): ``dict(cfg_path=..., pretrained=..., **overrides)``.
        where (str): Its dotted path in the config, for the messages.
            Defaults to ``'model'``.

    Returns:
        ConfigDict: The referenced config's ``model`` (its top-level
        ``data_preprocessor`` inside, ``_scope_`` its ``default_scope``)
        with the overrides merged over it. ``pretrained=True`` becomes
        ``init_cfg=dict(type='Pretrained', checkpoint=<published weights>)``.

    Raises:
        ValueError: If the dict also has a ``type``.
        ValueError: If an override key cannot take effect
            (:func:`check_override_keys`).
        FileNotFoundError: If the referenced config does not exist.
    """
    model = _plain(model)
    cfg_path = model.pop(CFG_PATH)
    if model.get('type') is not None:
        raise ValueError(
            f'{where} has both cfg_path ({cfg_path}) and type '
            f'({model["type"]}): to replace the cfg_path model with a model '
            'dict, add _delete_=True to the dict; to change the cfg_path '
            'model, leave type out.')
    model.pop('type', None)
    published = False
    if isinstance(model.get('pretrained'), bool):
        published = model.pop('pretrained')
    ref = referenced_config(cfg_path, published)
    base = _plain(ref.model)
    if 'data_preprocessor' in ref:
        base['data_preprocessor'] = _plain(ref.data_preprocessor)
    package = cfg_path.partition('::')[0] if '::' in cfg_path else None
    base.setdefault('_scope_', ref.get('default_scope') or package)
    if published:
        model['init_cfg'] = dict(type='Pretrained', checkpoint=ref.model_path)
    check_override_keys(model, base, where, ref.filename)
    # a ConfigDict, as MMSeg's segmentors read their arguments as attributes
    return ConfigDict(Config._merge_a_into_b(model, base))


def resolve_model_cfgs(cfg: Config) -> List[str]:
    """Resolve every ``cfg_path`` dict under ``cfg.model``, in place.

    Args:
        cfg (Config): A tool's config.

    Returns:
        list[str]: The dotted paths that were resolved.
    """
    done = []

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get(CFG_PATH), str):
                done.append(where)
                return resolve_cfg_path(node, where)
            for key in list(node):
                node[key] = walk(node[key], f'{where}.{key}')
        return node

    if isinstance(cfg.get('model'), dict):
        model = walk(_plain(cfg.model), 'model')
        if done:  # otherwise the config stays exactly as it was
            cfg.model = model
    return done
