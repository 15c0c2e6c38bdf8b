# Copyright (c) mmrdd contributors. All rights reserved.
"""Every distillation config names the plain-MMSeg config that scores its
converted student (``Student Config`` in configs/rdd/metafile.yml), and that
config has the student's model and the distillation config's test data."""
import glob
import os.path as osp
import re

import pytest
import yaml
from _tiers import config_params
from mmengine.config import Config
from mmengine.hub import get_config
from mmseg.registry import DATASETS

import mmrdd  # noqa: F401
from mmrdd.runtime import config_file, split_datasets

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# stages that train no student: MasKD's receptive tokens on the teacher
STAGES = ('maskd-tokens_', )
DISTILL = sorted(
    osp.basename(p)[:-len('.py')]
    for p in glob.glob(osp.join(ROOT, 'configs', 'rdd', '*.py'))
    if 'toy' not in osp.basename(p) and not osp.basename(p).startswith(STAGES))
STUDENTS = sorted(glob.glob(osp.join(ROOT, 'configs', 'students', '*.py')))


def metafile() -> dict:
    with open(osp.join(ROOT, 'configs', 'rdd', 'metafile.yml')) as f:
        return {m['Name']: m for m in yaml.safe_load(f)['Models']}


def load(name: str) -> Config:
    """A config by package name (``mmseg::...``) or repository path."""
    return Config.fromfile(
        config_file(name) if '::' in name else osp.join(ROOT, name))


def unscoped(d):
    """``d`` as plain data without the ``_scope_`` keys of inheritance."""
    d = d.to_dict() if hasattr(d, 'to_dict') else d
    if isinstance(d, dict):
        return {k: unscoped(v) for k, v in d.items() if k != '_scope_'}
    if isinstance(d, (list, tuple)):
        return [unscoped(v) for v in d]
    return d


def architecture(cfg: Config) -> dict:
    """The student model dict a distillation config builds."""
    arch = cfg.model.architecture
    return get_config(arch.cfg_path).model if arch.get('cfg_path') else arch


def test_the_lists_are_not_empty():
    assert len(DISTILL) >= 20
    assert len(STUDENTS) == 6


@pytest.mark.parametrize('name', config_params(DISTILL))
def test_scoring_config_holds_the_student_and_the_test_data(name):
    entry = metafile()[name]['Metadata']
    student = entry['Student Config']
    assert osp.splitext(osp.basename(student))[0] == entry['Student']
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'rdd', name + '.py'))
    score = load(student)
    assert unscoped(score.model) == unscoped(architecture(cfg))
    assert unscoped(score.test_dataloader.dataset) == unscoped(
        cfg.test_dataloader.dataset)
    assert unscoped(score.test_evaluator) == unscoped(cfg.test_evaluator)


def test_every_student_config_scores_a_distillation_config():
    named = {
        m['Metadata']['Student Config']
        for name, m in metafile().items() if not name.startswith(STAGES)
    }
    for path in STUDENTS:
        assert osp.relpath(path, ROOT) in named, path


@pytest.mark.parametrize(
    'path', STUDENTS, ids=[osp.basename(p) for p in STUDENTS])
def test_student_configs_import_mmrdd_only_for_our_data_sets(path):
    """Plain MMSeg loads them; CamVid's data set is ours."""
    cfg = Config.fromfile(path)
    ours = {
        d.type
        for _, d in split_datasets(cfg)
        if DATASETS.get(d.type).__module__.startswith('mmrdd.')
    }
    imports = cfg.get('custom_imports', {}).get('imports')
    assert imports == (['mmrdd'] if ours else None), (path, ours)
    assert ('camvid' in osp.basename(path)) == bool(ours)


def test_the_data_sets_page_lists_every_scoring_config():
    with open(osp.join(ROOT, 'docs', 'datasets.md')) as f:
        page = f.read()
    for name, entry in metafile().items():
        if name.startswith(STAGES):
            assert 'Student' not in entry['Metadata'], name
            continue
        student = entry['Metadata']['Student Config']
        assert f'`{student}`' in page, student
    links = re.findall(r'\]\((\.\./configs/[^)#]+)\)', page)
    assert len(links) >= len(STUDENTS)
    for link in links:
        assert osp.exists(osp.join(ROOT, 'docs', link)), link
