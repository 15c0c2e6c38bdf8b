# Copyright (c) mmrdd contributors. All rights reserved.
"""The run fingerprint's plain functions: the teacher's content hash, the
flattened config, and the differences a resume is refused for."""
import hashlib

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmrdd.runtime.run_fingerprint import (CHANGES, compared_config,
                                           fingerprint_differences,
                                           flat_config, legacy_fingerprint,
                                           mismatch_message, state_dict_sha256,
                                           trainable_parameters)


def test_sha256_of_one_tensor_is_the_plain_computation():
    state = {'w': torch.tensor([1.0, 2.0])}
    plain = hashlib.sha256(b'w|torch.float32|(2,)|' +
                           np.array([1.0, 2.0], np.float32).tobytes())
    assert state_dict_sha256(state) == plain.hexdigest()


def test_sha256_invariants():
    g = torch.Generator().manual_seed(0)
    state = {
        'a.weight': torch.randn(3, 4, generator=g),
        'a.num_batches_tracked': torch.tensor(7),
        'b.bias': torch.randn(5, generator=g).to(torch.bfloat16),
        'c.flag': torch.tensor([True, False]),
    }
    sha = state_dict_sha256(state)
    # the order of the keys does not matter
    assert state_dict_sha256(dict(reversed(list(state.items())))) == sha
    # only the prefixed keys, prefix removed: the model's own state dict
    # and a distillation checkpoint's 'teacher.' entries hash the same
    mixed = {'teacher.' + k: v for k, v in state.items()}
    mixed['architecture.w'] = torch.ones(2)
    assert state_dict_sha256(mixed, prefix='teacher.') == sha
    assert state_dict_sha256(mixed, prefix='nothing.') is None
    # a view that is not contiguous hashes as its values
    transposed = dict(state, **{'a.weight': state['a.weight'].t().t()})
    assert state_dict_sha256(transposed) == sha
    # any change of a value, dtype, shape or name changes it
    changed = [
        dict(
            state, **{
                'a.weight':
                state['a.weight'].clone().index_put_(
                    (torch.tensor([0]), torch.tensor([0])),
                    torch.nextafter(state['a.weight'][0, 0], torch.tensor(9.)))
            }),
        dict(state, **{'a.weight': state['a.weight'].double()}),
        dict(state, **{'a.weight': state['a.weight'].reshape(4, 3)}),
        {('z' + k if k == 'b.bias' else k): v
         for k, v in state.items()},
    ]
    for other in changed:
        assert state_dict_sha256(other) != sha


def test_flat_config_truth_table():
    assert flat_config(
        dict(
            a=1, b=dict(c=(1, 2), d=[]), e={}, f=None, g=[dict(h='x')], i=int),
        prefix='m') == {
            'm.a': 1,
            'm.b.c.0': 1,
            'm.b.c.1': 2,
            'm.b.d': [],
            'm.e': {},
            'm.f': None,
            'm.g.0.h': 'x',
            'm.i': repr(int)
        }


def test_compared_config_leaves_out_what_does_not_train():
    cfg = Config(
        dict(
            model=dict(
                teacher_ckpt='a.pth',
                download_timeout=5,
                check_labels=False,
                check_teacher_finite=True,
                distiller=dict(switch_iter=3))))
    assert compared_config(cfg.model) == {'model.distiller.switch_iter': 3}
    assert compared_config(None) is None


def test_trainable_parameters_are_those_with_grad():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    model[1].weight.requires_grad_(False)
    assert trainable_parameters(model) == {
        '0.weight': [3, 2],
        '0.bias': [3],
        '1.bias': [1]
    }


def fingerprint(switch=3,
                weight=1.0,
                sha='a' * 64,
                trainable=None,
                ckpt='t.pth',
                **extra):
    config = {
        'model.distiller.switch_iter': switch,
        'model.distiller.distill_losses.loss_kl.loss_weight': weight,
        'model.architecture.decode_head.dropout_ratio': 0.1,
        **extra
    }
    return dict(
        config=config,
        teacher=dict(sha256=sha, ckpt=ckpt),
        trainable=trainable if trainable is not None else {'w': [2, 3]},
        changes=[])


def test_no_difference_when_the_runs_agree():
    # the teacher file's path does not matter, its content does
    assert fingerprint_differences(fingerprint(),
                                   fingerprint(ckpt='elsewhere.pth'), 4) == {}


def test_each_difference_by_name():
    found = fingerprint_differences(
        fingerprint(),
        fingerprint(
            switch=6,
            weight=5.0,
            sha='b' * 64,
            trainable={
                'w': [2, 4],
                'c': [1]
            },
            **{'model.architecture.decode_head.dropout_ratio': 0.0}), 4)
    assert list(found) == list(CHANGES)  # in that order, all five
    assert found['teacher_ckpt'] == (
        'the checkpoint was trained with the teacher t.pth, weights sha256 '
        f"{'a' * 16}; this run's teacher is t.pth, weights sha256 "
        f"{'b' * 16}")
    assert found['switch_iter'] == (
        "3 -> 6: iteration 4 is in TSE with the checkpoint's switch_iter "
        "and in TFE with this run's (the stages would go TSE -> TFE)")
    assert found['distiller'] == (
        'model.distiller.distill_losses.loss_kl.loss_weight: 1.0 -> 5.0')
    assert found['model'] == (
        'model.architecture.decode_head.dropout_ratio: 0.1 -> 0.0')
    assert found['trainable_parameters'] == 'c (1,) added; w: (2, 3) -> (2, 4)'


@pytest.mark.parametrize('old, new, iteration, stages', [
    (3, 6, 2, 'in TFE with the checkpoint\'s switch_iter and in TFE'),
    (3, 6, 4, '(the stages would go TSE -> TFE)'),
    (6, 3, 4, 'in TFE with the checkpoint\'s switch_iter and in TSE'),
])
def test_switch_iter_names_the_stage_at_the_checkpoint(old, new, iteration,
                                                       stages):
    text = fingerprint_differences(
        fingerprint(switch=old), fingerprint(switch=new),
        iteration)['switch_iter']
    assert text.startswith(f'{old} -> {new}: iteration {iteration} is in')
    assert stages in text
    assert ('TSE -> TFE' in text) == (old <= iteration < new)


def test_added_and_removed_keys_and_long_lists():
    old = fingerprint()
    new = fingerprint(
        **{f'model.distiller.connectors.p.{i}': i
           for i in range(8)})
    text = fingerprint_differences(old, new, 4)['distiller']
    assert text.startswith('model.distiller.connectors.p.0=0 added; ')
    assert text.endswith('.p.5=5 added; ... and 2 more')
    del new['config']['model.distiller.distill_losses.loss_kl.loss_weight']
    assert fingerprint_differences(new, old, 4)['distiller'] == (
        'model.distiller.connectors.p.0=0 removed; '
        'model.distiller.connectors.p.1=1 removed; '
        'model.distiller.connectors.p.2=2 removed; '
        'model.distiller.connectors.p.3=3 removed; '
        'model.distiller.connectors.p.4=4 removed; '
        'model.distiller.connectors.p.5=5 removed; ... and 3 more')
    long = fingerprint(weight='x' * 100)
    assert fingerprint_differences(
        old, long, 4)['distiller'].endswith("1.0 -> '" + 'x' * 56 + '...')


def test_unknown_parts_are_not_compared():
    old = dict(config=None, teacher=None, trainable=None, changes=[])
    assert fingerprint_differences(old, fingerprint(switch=9), 4) == {}


def test_legacy_fingerprint_from_meta_cfg_and_teacher_weights():
    cfg = Config(
        dict(model=dict(teacher_ckpt='t.pth', distiller=dict(switch_iter=3))))
    teacher = {'w': torch.ones(2)}
    checkpoint = dict(
        meta=dict(cfg=cfg.pretty_text, iter=4),
        state_dict={
            'teacher.w': teacher['w'],
            'architecture.v': torch.zeros(1)
        })
    assert legacy_fingerprint(checkpoint) == dict(
        config={'model.distiller.switch_iter': 3},
        teacher=dict(
            sha256=state_dict_sha256(teacher), ckpt=None, in_checkpoint=True),
        trainable=None,
        changes=[])
    bare = legacy_fingerprint(
        dict(meta=dict(cfg='not python ('), state_dict={}))
    assert bare['config'] is None and bare['teacher'] is None


def test_mismatch_message_names_each_difference_and_the_ways_out():
    text = mismatch_message('w/iter_4.pth', 4, {
        'teacher_ckpt': 'A',
        'switch_iter': 'B'
    })
    assert text.startswith('cannot resume from w/iter_4.pth (iteration 4)')
    assert '\n  - teacher_ckpt: A\n  - switch_iter: B\n' in text
    assert '--cfg-options load_from=w/iter_4.pth without --resume' in text
    assert text.endswith(
        '--resume --cfg-options '
        '"resume_allow_changes=[\'teacher_ckpt\',\'switch_iter\']".')
