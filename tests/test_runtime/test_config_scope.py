# Copyright (c) mmrdd contributors. All rights reserved.
"""``mmrdd::`` configs: resolution, the registry scope they get, errors."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import HOOKS, MODELS, VISUALIZERS

import mmrdd  # noqa: F401
from mmrdd.runtime import config_file

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_RDD = 'rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_' \
    'toyseg-96x96.py'


def test_package_names_resolve_to_the_shipped_files():
    ours = config_file(f'mmrdd::{TOY_RDD}')
    assert osp.samefile(ours, osp.join(ROOT, 'configs', TOY_RDD))
    mmseg = config_file(
        'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py')
    assert mmseg.endswith(
        osp.join('mmseg', '.mim', 'configs', 'deeplabv3',
                 'deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'))
    assert config_file(osp.join(ROOT, 'configs',
                                TOY_RDD)) == osp.join(ROOT, 'configs', TOY_RDD)


@pytest.mark.parametrize('name, match', [
    ('mmrdd::rdd/no_such_config.py', 'is not in mmrdd'),
    ('mmfoo::x/y.py', 'unknown package "mmfoo::"'),
    ('configs/no_such_config.py', 'does not exist'),
])
def test_bad_names_say_what_is_wrong(name, match):
    with pytest.raises(FileNotFoundError, match=match):
        config_file(name)


def test_a_user_config_inherits_ours_and_its_types_resolve(tmp_path):
    """The bases' dicts get ``_scope_='mmrdd'``; that scope finds MMSeg's
    types, and ours registered in MMSeg's registries."""
    user = tmp_path / 'my_rdd.py'
    user.write_text(f"_base_ = ['mmrdd::{TOY_RDD}']\n"
                    'model = dict(distiller=dict(switch_iter=7))\n')
    cfg = Config.fromfile(str(user))
    assert cfg.model.distiller.switch_iter == 7
    assert cfg.model.distiller.tse.min_kept == 3500  # from our base
    assert cfg.visualizer._scope_ == 'mmrdd'
    hook = next(h for h in cfg.custom_hooks if h.type == 'RDDStageHook')
    assert hook._scope_ == 'mmrdd'
    assert type(VISUALIZERS.build(cfg.visualizer)).__name__ == \
        'SegLocalVisualizer'
    assert type(HOOKS.build(hook)).__name__ == 'RDDStageHook'
    toy_student = dict(cfg.model.architecture, _scope_='mmrdd')
    assert type(MODELS.build(toy_student)).__name__ == 'EncoderDecoder'
