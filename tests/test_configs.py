# Copyright (c) mmrdd contributors. All rights reserved.
"""Every config under configs/ loads, its model builds, its links are real."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

import mmrdd  # noqa: F401
from mmrazor.registry import MODELS as RAZOR_MODELS
from mmseg.registry import MODELS as SEG_MODELS
from mmengine.registry import DefaultScope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '/_base_/' not in p)


def mmseg_metafile_urls():
    import mmseg
    urls = set()
    for path in glob.glob(osp.join(osp.dirname(mmseg.__file__), '.mim',
                                   'configs', '*', 'metafile.yaml')):
        urls.update(re.findall(r'Weights: (\S+)', open(path).read()))
    return urls


def test_there_are_configs():
    assert len(CONFIGS) >= 4


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_loads_and_model_builds(path):
    cfg = Config.fromfile(path)
    # the runner's default scope, without leaving it set for other tests
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        check_config(cfg)


def check_config(cfg):
    assert cfg.get('custom_imports', {}).get('imports') == ['mmrdd']
    model_cfg = cfg.model.copy()
    if model_cfg.get('type') == 'RDDSingleTeacherDistill':
        ckpt = model_cfg.get('teacher_ckpt')
        if ckpt and '://' in ckpt:
            assert ckpt.startswith('https://')
            assert ckpt in mmseg_metafile_urls(), ckpt
        model_cfg['teacher_ckpt'] = None  # no download in tests
        model = RAZOR_MODELS.build(model_cfg)
        assert model.student.decode_head.num_classes == \
            model.teacher.decode_head.num_classes
        if model_cfg.distiller.type != 'RDDDistiller':
            return
        hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
        assert 'RDDStageHook' in hooks
        switch = model.distiller.switch_iter
        assert 0 <= switch <= cfg.train_cfg.max_iters
    else:
        model = SEG_MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


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
        assert model['Name'] == osp.splitext(
            osp.basename(model['Config']))[0]
    assert osp.isfile(osp.join(ROOT, meta['Collections'][0]['README']))
