# Copyright (c) mmrdd contributors. All rights reserved.
"""Every config under configs/ loads, its model builds, its links are real."""
import ast
import functools
import glob
import os.path as osp
import re

import pytest
from _tiers import config_params
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS as RAZOR_MODELS
from mmseg.registry import MODELS as SEG_MODELS
from torch import nn

import mmrdd  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '/_base_/' not in p)

# a quoted `scheme://...` string in a config file
LINK = r"""['"]([a-z][a-z0-9+.-]*://[^'"\s]+)['"]"""


def mmseg_configs_dir():
    import mmseg
    return osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs')


@functools.lru_cache()
def mmseg_metafile_weights():
    """``{config path relative to mmseg's configs: checkpoint URL}``."""
    import yaml
    weights = {}
    for path in glob.glob(osp.join(mmseg_configs_dir(), '*', 'metafile.yaml')):
        for model in yaml.safe_load(open(path))['Models']:
            if model.get('Weights'):
                config = model['Config']
                weights[config[len('configs/'):]] = model['Weights']
    return weights


def mmseg_metafile_urls():
    return set(mmseg_metafile_weights().values())


@functools.lru_cache()
def mmseg_links():
    """Every checkpoint link of MMSeg's model zoo: the metafiles' weights
    and every quoted ``scheme://...`` string of MMSeg's configs (ImageNet
    backbones, e.g. ``open-mmlab://resnet18_v1c`` or the MiT ``https://``
    checkpoints)."""
    links = set(mmseg_metafile_urls())
    for path in glob.glob(
            osp.join(mmseg_configs_dir(), '**', '*.py'), recursive=True):
        links.update(re.findall(LINK, open(path).read()))
    return links


def config_links(cfg) -> set:
    """The ``scheme://`` strings anywhere in a config, after inheritance."""
    links = set()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, str) and re.fullmatch(
                r'[a-z][a-z0-9+.-]*://\S+', value):
            links.add(value)

    walk(cfg.to_dict())
    return links


def model_links(model) -> set:
    """The checkpoints a built model would load in ``init_weights``
    (``init_cfg`` of every module, e.g. ``pretrained=`` of a segmentor or
    the ``Pretrained`` backbone of a ``cfg_path`` model)."""
    links = set()
    for module in model.modules():
        init_cfgs = getattr(module, 'init_cfg', None) or []
        if isinstance(init_cfgs, dict):
            init_cfgs = [init_cfgs]
        for init_cfg in init_cfgs:
            if init_cfg.get('checkpoint'):
                links.add(init_cfg['checkpoint'])
    return links


def last_head(model, prefix='decode_head'):
    """A segmentor's head, the last of a list (a cascade's prediction)."""
    head = getattr(model, prefix)
    return head[-1] if isinstance(head, nn.ModuleList) else head


def test_there_are_configs():
    assert len(CONFIGS) >= 4


@pytest.mark.parametrize('path',
                         config_params(
                             CONFIGS, ids=lambda p: osp.relpath(p, ROOT)))
def test_config_loads_and_model_builds(path):
    cfg = Config.fromfile(path)
    # the runner's default scope, without leaving it set for other tests
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        # plain-MMSeg student configs import mmrdd only where they need it
        # (tests/test_student_configs.py)
        links = check_config(
            cfg, plugin=osp.basename(osp.dirname(path)) != 'students')
    if 'toy' not in osp.basename(path):
        # a real config starts from published weights
        assert links, path
    if 'student' in cfg:
        check_student_variable(cfg, path)


def check_student_variable(cfg, path):
    """The helper variable ``student`` (a base in
    configs/_base_/distill/students/) is the model the config trains."""
    arch = cfg.model.get('architecture', cfg.model)
    if 'cfg_path' in cfg.student:
        assert arch == cfg.student, (path, cfg.student, arch)
    else:  # a model dict; the data set base sets num_classes and padding
        for key in ('type', 'pretrained'):
            assert arch[key] == cfg.student[key], (path, key)
        for part in ('backbone', 'decode_head', 'auxiliary_head'):
            assert arch[part].type == cfg.student[part].type, (path, part)
        assert arch.backbone.depth == cfg.student.backbone.depth, path


def config_bases(path) -> list:
    """The ``_base_`` entries a config file names."""
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            bases = ast.literal_eval(node.value)
            return [bases] if isinstance(bases, str) else list(bases)
    return []


def test_leaves_name_bases_never_another_leaf():
    """docs/step.md, "Reading a config": a config in configs/rdd/ names
    its bases (configs/_base_/..., or a package's ``mmseg::`` config), never
    another leaf."""
    leaves = [p for p in CONFIGS if '/configs/rdd/' in p]
    named = 0
    for path in leaves:
        for base in config_bases(path):
            named += 1
            if '::' in base:
                continue
            resolved = osp.normpath(osp.join(osp.dirname(path), base))
            assert '/configs/_base_/' in resolved, (
                f'{osp.relpath(path, ROOT)} inherits {base}: name the bases '
                'under configs/_base_/ that it inherits instead (the '
                'student under configs/_base_/distill/students/, the '
                'method under configs/_base_/distill/kd_family/)')
    assert named >= len(leaves)


def check_config(cfg, plugin: bool = True) -> set:
    """Build the model; check its links (and with ``plugin`` that the
    config imports mmrdd); return them."""
    if plugin:
        assert cfg.get('custom_imports', {}).get('imports') == ['mmrdd']
    model_cfg = cfg.model.copy()
    links = config_links(cfg)
    # MasKD's tokens are the artefact of its stage 1, not trained in tests
    for loss in model_cfg.get('distiller', {}).get('distill_losses',
                                                   {}).values():
        if 'tokens' in loss:
            loss['tokens'] = None
    if model_cfg.get('type') in ('FrozenTeacherDistill', 'MasKDTokenTrainer'):
        ckpt = model_cfg.get('teacher_ckpt')
        if ckpt and '://' in ckpt:
            assert ckpt.startswith('https://')
            assert ckpt in mmseg_metafile_urls(), ckpt
            # the checkpoint published for the teacher's own config
            teacher_cfg = model_cfg.teacher.get('cfg_path', '')
            if teacher_cfg.startswith('mmseg::'):
                assert ckpt == mmseg_metafile_weights()[
                    teacher_cfg[len('mmseg::'):]], (teacher_cfg, ckpt)
        model_cfg['teacher_ckpt'] = None  # no download in tests
        model = RAZOR_MODELS.build(model_cfg)
    if model_cfg.get('type') == 'FrozenTeacherDistill':
        assert last_head(model.student).num_classes == \
            last_head(model.teacher).num_classes
        if model_cfg.distiller.type == 'RDDDistiller':
            hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
            assert 'RDDStageHook' in hooks
            switch = model.distiller.switch_iter
            assert 0 <= switch <= cfg.train_cfg.max_iters
    elif model_cfg.get('type') != 'MasKDTokenTrainer':
        model = SEG_MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    links |= model_links(model)
    # every link is one of MMSeg's model zoo (no typo, no other host)
    unknown = links - mmseg_links()
    assert not unknown, unknown
    return links


def test_link_checks_are_not_vacuous():
    links = mmseg_links()
    assert 'open-mmlab://resnet18_v1c' in links
    assert 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/segformer/mit_b0_20220624-7e0fe6dd.pth' in links  # noqa: E501
    assert len(mmseg_metafile_weights()) > 100
    cfg = Config.fromfile(
        osp.join(
            ROOT, 'configs', 'rdd', 'rdd_logits_segformer_mit-b5_'
            'segformer_mit-b0_8xb2-160k_ade20k-512x512.py'))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        student = SEG_MODELS.build(
            get_config(cfg.model.architecture.cfg_path).model)
    assert model_links(student) == {
        'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/segformer/mit_b0_20220624-7e0fe6dd.pth'  # noqa: E501
    }  # noqa: E501


def test_readme_and_metafile_link_real_configs():
    import yaml
    folder = osp.join(ROOT, 'configs', 'rdd')
    readme = open(osp.join(folder, 'README.md')).read()
    links = re.findall(r'\]\(([^)#]+\.py)\)', readme)
    assert links
    for link in links:
        assert osp.isfile(osp.join(folder, link)), link
    meta = yaml.safe_load(open(osp.join(folder, 'metafile.yml')))
    for model in meta['Models']:
        assert osp.isfile(osp.join(ROOT, model['Config'])), model['Config']
        assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
    assert osp.isfile(osp.join(ROOT, meta['Collections'][0]['README']))


def mmseg_metafile_miou():
    """``{MMSeg model name: val mIoU}`` from MMSeg's metafiles."""
    import yaml
    miou = {}
    for path in glob.glob(osp.join(mmseg_configs_dir(), '*', 'metafile.yaml')):
        for model in yaml.safe_load(open(path))['Models']:
            results = model.get('Results') or []
            results = results if isinstance(results, list) else [results]
            for result in results:
                if 'mIoU' in result.get('Metrics', {}):
                    miou[model['Name']] = result['Metrics']['mIoU']
                    break
    return miou


def test_pair_configs_are_listed_with_mmseg_numbers():
    """Every real pair config beyond the paper's teacher is in the metafile
    and the README, with the teacher's and the student's mIoU as MMSeg's
    metafiles publish them."""
    import yaml
    folder = osp.join(ROOT, 'configs', 'rdd')
    readme = open(osp.join(folder, 'README.md')).read()
    meta = {
        m['Name']: m
        for m in yaml.safe_load(open(osp.join(folder, 'metafile.yml')))
        ['Models']
    }
    pairs = [
        osp.basename(p) for p in CONFIGS
        if re.match(r'rdd_logits_(segformer|ocrnet)_(?!toy)', osp.basename(p))
    ]
    assert len(pairs) == 4
    miou = mmseg_metafile_miou()
    for name in pairs:
        assert f']({name})' in readme, name
        entry = meta[name[:-len('.py')]]['Metadata']
        cfg = Config.fromfile(osp.join(folder, name))
        for who, model in (('Teacher', cfg.model.teacher),
                           ('Student', cfg.model.architecture)):
            assert entry[who] == osp.splitext(osp.basename(
                model.cfg_path))[0], (name, who)
        assert entry['Teacher mIoU (MMSeg)'] == miou[entry['Teacher']]
        assert entry['Student mIoU alone (MMSeg)'] == miou[entry['Student']]
        row = next(line for line in readme.splitlines()
                   if line.startswith('|') and f']({name})' in line)
        cells = [c.strip() for c in row.split('|')]
        assert f'{miou[entry["Teacher"]]:.2f}' in cells, row
        assert f'{miou[entry["Student"]]:.2f}' in cells, row
