# Copyright (c) mmrdd contributors. All rights reserved.
"""Who owns what inside a training step: data flows one way.

The difficulty estimators take data (logits, labels, the frozen head and
teacher descriptions, the step record), never the sampler, the distiller or
the algorithm; the record carries no estimator; the algorithm has no type
switch on its distiller; and no code of mmrdd writes into MMRazor's
recorders or deliveries, replaces a head's ``loss_by_feat`` or sets the
process-wide socket timeout.
"""
import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import torch
from _toy_models import batch, rdd_cfg
from mmrazor.registry import MODELS

import mmrdd
from mmrdd.models import (DifficultyEstimator, DistillStep,
                          FrozenTeacherDistill, RDDPixelSampler,
                          RDDTFEDifficulty, RDDTSEDifficulty)
from mmrdd.structures import (RDDHeadSpec, RDDHeadWeights, RDDStepRecord,
                              TeacherSpec)

PACKAGE = Path(mmrdd.__file__).parent
ESTIMATORS = [DifficultyEstimator, RDDTFEDifficulty, RDDTSEDifficulty]
#: what an estimator method may take besides self
DATA = {
    'student_logits', 'label', 'head', 'record', 'teacher', 'inputs',
    'teacher_logits', 'views', 'label_size', 'out', 'size', 'align_corners'
}


@pytest.mark.parametrize('cls', ESTIMATORS)
def test_the_estimator_interface_takes_data_not_a_sampler(cls):
    """By signature: every method of the interface takes data only; the
    head is the frozen RDDHeadSpec, not the sampler."""
    for name in ('teacher_heads', 'check_teacher', 'teacher_views', 'prepare',
                 'forward', 'distill_weight'):
        params = inspect.signature(getattr(cls, name)).parameters
        names = set(params) - {'self'}
        assert names <= DATA, (cls.__name__, name, names - DATA)
        for param in params.values():
            text = str(param.annotation)
            assert not re.search('Sampler|Distiller|Distill\\b|Algorithm',
                                 text), (cls.__name__, name, text)
    forward = inspect.signature(cls.forward).parameters
    assert forward['head'].annotation is RDDHeadSpec
    assert forward['record'].annotation is RDDStepRecord


def test_the_record_carries_data_only():
    fields = {f.name for f in dataclasses.fields(RDDStepRecord)}
    assert fields == {
        'stage', 'teacher', 'teacher_logits', 'teacher_maps', 'heads'
    }


def test_an_estimator_works_on_a_spec_alone_and_writes_nothing_back():
    """TSE on a hand-made head description (no sampler, no model): the
    record it reads is unchanged, the spec cannot be changed, and the
    weights are the class-weighted mean over the XOR selection."""
    g = torch.Generator().manual_seed(3)
    student = torch.randn(2, 4, 6, 8, generator=g) * 3
    teacher = torch.randn(2, 4, 6, 8, generator=g) * 3
    label = torch.randint(0, 4, (2, 6, 8), generator=g)
    label[0, 0] = 255
    spec = RDDHeadSpec('decode_head', 'decode_head', True, 255, 4, False)
    record = RDDStepRecord(
        'tse', TeacherSpec('decode_head', None, False, ('decode_head', )),
        dict(decode_head=teacher))
    tse = RDDTSEDifficulty(thresh=0.6, min_kept=5)
    out = tse(student, label, spec, record)
    assert isinstance(out, RDDHeadWeights)
    assert record.heads == {} and record.teacher_maps == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.ignore_index = 0
    m = tse.hard_masks(student, teacher, label, 255)
    mask = m['hard_student'] ^ m['hard_teacher']
    assert torch.equal(out.distill_map, mask) and mask.any()
    # MMSeg's mean over all N*H*W pixels times the weight = mean over mask
    torch.testing.assert_close(out.weight,
                               mask.float() * label.numel() / mask.sum())


def test_the_sampler_gives_its_spec_and_moves_its_class_weights():
    """The sampler hands the estimator its frozen spec; the spec's class
    weights follow ``Module.to`` as a buffer would."""
    spec = RDDHeadSpec('decode_head', 'decode_head', True, 255, 2, False,
                       torch.tensor([1.0, 2.0]))
    sampler = RDDPixelSampler(spec)
    seen = {}

    class Probe(DifficultyEstimator):

        def forward(self, student_logits, label, head, record):
            seen['head'] = head
            return RDDHeadWeights(label.float(), label, {})

    record = RDDStepRecord('tse', TeacherSpec('decode_head', None, False, ()),
                           {})
    label = torch.tensor([[[0, 1], [1, 255]]])
    with sampler.bind(Probe(), record):
        weight = sampler.sample(torch.zeros(1, 2, 2, 2), label[:, None])
    assert seen['head'] is spec and torch.equal(weight, label.float())
    assert record.heads['decode_head'].weight is weight
    with sampler.bind(Probe(), record, collect=False):
        sampler.sample(torch.zeros(1, 2, 2, 2), label[:, None])
    assert record.heads['decode_head'].weight is weight  # not replaced
    with pytest.raises(RuntimeError, match='outside an RDD training step'):
        sampler.sample(torch.zeros(1, 2, 2, 2), label[:, None])
    sampler.to(torch.float64)
    assert sampler.spec.loss_class_weight.dtype == torch.float64
    assert sampler.state_dict() == {}


def test_one_algorithm_and_its_distill_step():
    """RDD's distiller is its own step; a plain ConfigurableDistiller gets
    DistillStep; 0.2's RDDSingleTeacherDistill builds the same class."""
    assert MODELS.get('RDDSingleTeacherDistill') is FrozenTeacherDistill
    torch.manual_seed(0)
    rdd = MODELS.build(rdd_cfg())
    assert type(rdd) is FrozenTeacherDistill and rdd.step is rdd.distiller
    assert rdd.step.teacher_spec == TeacherSpec(
        'decode_head', 'auxiliary_head', False,
        ('decode_head', 'auxiliary_head'))
    cfg = rdd_cfg()
    cfg['distiller']['type'] = 'ConfigurableDistiller'
    plain = MODELS.build(cfg)
    assert isinstance(plain.step, DistillStep)
    assert plain.step.teacher_spec.heads == ('decode_head', )
    x, samples = batch()
    losses = plain.loss(x, samples)
    assert not any(k.startswith('rdd/') for k in losses)
    assert getattr(plain.student.decode_head, 'sampler', None) is None


def _sources(part: str):
    for path in sorted((PACKAGE / part).rglob('*.py')):
        yield path, path.read_text()


def test_the_algorithm_has_no_type_switch_on_its_distiller():
    for path, text in _sources('models/algorithms'):
        assert not re.search(r'isinstance\([^)]*Distiller', text), path


def offences(text: str):
    """Writes into other objects' internals that a source text makes:
    ``setdefaulttimeout``, any use of MMRazor's ``data_buffer`` /
    ``data_queue``, assignment (plain, augmented, slice or item) to a
    ``loss_by_feat`` or to a private attribute of another object."""
    found = [
        w for w in ('setdefaulttimeout', '.data_buffer', '.data_queue')
        if w in text
    ]
    for node in ast.walk(ast.parse(text)):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            while isinstance(target, ast.Subscript):
                target = target.value
            if not isinstance(target, ast.Attribute):
                continue
            owner = target.value
            mine = isinstance(owner, ast.Name) and owner.id in ('self', 'cls')
            if target.attr == 'loss_by_feat' or (
                    target.attr.startswith('_') and not mine
                    and not target.attr.startswith('__')):
                found.append(f'{target.attr} (line {node.lineno})')
    return found


def test_the_internals_scanner_finds_what_it_looks_for():
    """The check below would pass on a scanner that sees nothing."""
    text = ('socket.setdefaulttimeout(3)\n'
            'buffer = recorder.data_buffer\n'
            'head.loss_by_feat = wrap(head.loss_by_feat)\n'
            'self.teacher._is_init = True\n'
            'other._cache[0] = 1\n'
            'self._mine = 1\n')
    assert offences(text) == [
        'setdefaulttimeout', '.data_buffer', 'loss_by_feat (line 3)',
        '_is_init (line 4)', '_cache (line 5)'
    ]


def test_no_object_writes_into_another_ones_internals():
    for path, text in _sources('.'):
        assert offences(text) == [], path
