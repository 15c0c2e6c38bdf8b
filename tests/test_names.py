# Copyright (c) mmrdd contributors. All rights reserved.
"""Names by role: the generic pieces carry no ``RDD`` prefix, and every
name that mmrdd 0.2 configs use still builds the renamed class
(``docs/names.md``)."""
import pytest
import torch
from _toy_models import batch, rdd_cfg
from mmrazor.registry import MODELS as RAZOR_MODELS
from mmrazor.registry import TASK_UTILS as RAZOR_TASK_UTILS
from mmseg.registry import HOOKS
from mmseg.registry import MODELS as SEG_MODELS

import mmrdd  # noqa: F401
from mmrdd.engine import TeacherCheckHook
from mmrdd.models import (BatchAugSegDataPreProcessor, CandidatePicker,
                          FrozenTeacherDistill, SegCutMix, SegMixup,
                          WeightedChannelWiseDivergence, WeightedKLDivergence)
from mmrdd.models.losses import SegDISTLoss

#: (registry, name of 0.2, the class it builds now, a config of it)
RENAMED = [
    (RAZOR_MODELS, 'RDDSingleTeacherDistill', FrozenTeacherDistill, None),
    (RAZOR_MODELS, 'RDDWeightedKLDivergence', WeightedKLDivergence,
     dict(tau=2.0)),
    (RAZOR_MODELS, 'RDDWeightedChannelWiseDivergence',
     WeightedChannelWiseDivergence, dict(tau=4.0)),
    (RAZOR_MODELS, 'RDDSegDISTLoss', SegDISTLoss, dict()),
    (SEG_MODELS, 'RDDSegCutMix', SegCutMix, dict(prob=1.0, seed=0)),
    (SEG_MODELS, 'RDDSegMixup', SegMixup, dict(seed=0)),
    (SEG_MODELS, 'RDDSegDataPreProcessor', BatchAugSegDataPreProcessor,
     dict(mean=[0, 0, 0], std=[1, 1, 1])),
    (RAZOR_TASK_UTILS, 'RDDCandidatePicker', CandidatePicker, dict(pool=3)),
    (HOOKS, 'RDDTeacherCheckHook', TeacherCheckHook, dict(min_miou=5.0)),
]


@pytest.mark.parametrize(
    'registry,old,cls,cfg', RENAMED, ids=[r[1] for r in RENAMED])
def test_a_released_name_builds_the_renamed_class(registry, old, cls, cfg):
    new = cls.__name__
    assert not new.startswith('RDD') and old == 'RDD' + new or old in (
        'RDDSingleTeacherDistill', 'RDDSegDataPreProcessor')
    assert registry.get(new) is cls and registry.get(old) is cls
    if cfg is None:  # the algorithm: a whole distillation config
        torch.manual_seed(0)
        built = registry.build(dict(rdd_cfg(), type=old))
        torch.manual_seed(0)
        ref = registry.build(rdd_cfg())
        x, samples = batch()
        built.distiller.set_stage('tse')
        ref.distiller.set_stage('tse')
        torch.manual_seed(1)
        got = built.loss(x, samples)
        torch.manual_seed(1)
        want = ref.loss(x, samples)
        assert got.keys() == want.keys()
        for k in want:
            torch.testing.assert_close(got[k], want[k])
    else:  # the same object, argument by argument
        built = registry.build(dict(type=old, **cfg))
        ref = registry.build(dict(type=new, **cfg))
        assert repr(built) == repr(ref) or vars(built).keys() == vars(
            ref).keys()
        for key, value in cfg.items():
            if isinstance(value, (int, float)):  # stored as given
                assert getattr(built, key) == value, key
    assert type(built) is cls
