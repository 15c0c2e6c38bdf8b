# Copyright (c) mmrdd contributors. All rights reserved.
"""tools/analysis_tools/check_official.py for the eight methods of
winycg/CIRKD and hunto/DIST_KD: the result files it wrote against the
official code (committed), and the tool on a stand-in for the official
files (this repository holds none of their code): it passes on the
official computation and fails on a wrong one."""
import json
import os.path as osp

import pytest
from conftest import ROOT, run_check_official

CIRKD_COMMIT = 'dab64dbb5e4172141166cf8434a80ce55d9d3aa7'
DIST_KD_COMMIT = '2418f18b1fedd7c2646a7b1b9a27d5c674c2170b'
#: method -> (repository, commit, compared terms, weight of each term)
EXPECTED = {
    'at': ('winycg/CIRKD', CIRKD_COMMIT, dict(at=10000., pixel_kd=1.)),
    'cwd':
    ('winycg/CIRKD', CIRKD_COMMIT,
     dict(cwd_feat=50., cwd_feat_equal_widths=50., cwd_logits=3.,
          pixel_kd=1.)),
    'fitnet': ('winycg/CIRKD', CIRKD_COMMIT, dict(fitnet=10., pixel_kd=1.)),
    'skd': ('winycg/CIRKD', CIRKD_COMMIT, dict(skd=10., pixel_kd=1.)),
    'ifvd': ('winycg/CIRKD', CIRKD_COMMIT, dict(ifvd=20., pixel_kd=1.)),
    'dsd': ('winycg/CIRKD', CIRKD_COMMIT,
            dict(dsd_pixel=1000., dsd_category=10.)),
    'cirkd':
    ('winycg/CIRKD', CIRKD_COMMIT,
     dict(mini_batch=1., memory_pixel=.1, memory_region=.1, pixel_kd=1.)),
    'dist':
    ('hunto/DIST_KD', DIST_KD_COMMIT, dict(dist_decode=1., dist_aux=.4)),
}


def _load(method):
    path = osp.join(ROOT, 'docs', 'results', f'official_{method}.json')
    with open(path) as f:
        return json.load(f)


@pytest.mark.parametrize('method', sorted(EXPECTED))
def test_committed_result_passes_on_the_configs_shapes(method):
    """Every term of the method's one-stage Cityscapes config, value and
    gradients of every student tensor and connector parameter it reaches,
    within 1e-5 of the official code, at the configs' widths (student
    feature 128 channels, teacher 512) with ignored labels."""
    repository, commit, weights = EXPECTED[method]
    result = _load(method)
    assert result['method'] == method and result['passed'] is True
    assert result['tolerance'] == 1e-5 and result['max_rel'] <= 1e-5
    assert result['official']['repository'] == repository
    assert result['official']['commit'] == commit
    assert set(weights) <= set(result['checks'])
    for name, weight in weights.items():
        check = result['checks'][name]
        assert check['arguments']['official_weight'] == weight, name
        assert check['arguments']['ours']['loss_weight'] == weight, name
        grads = [k for k in check if k.startswith('grad_')]
        assert grads, name
        for key in ['value'] + grads:
            assert check[key]['max_rel'] <= 1e-5, (name, key)
        # not a degenerate comparison
        assert check['value']['official'] != 0, name
    inputs = result['inputs']
    assert inputs['student_feat'][:2] == [4, 128]
    assert inputs['teacher_feat'][:2] == [4, 512]
    assert inputs['logits'][:2] == [4, 19]
    assert inputs['labels'][1:] == [8 * s for s in inputs['logits'][2:]]
    assert inputs['ignored_pixels'] > 0
    assert result['ours']['config'].startswith(f'configs/rdd/{method}_')


def test_documented_deviations_are_in_the_results():
    """CWD on projected features: ours = official * 128 / 512 (exactly
    the compared scale; equal at equal widths). CIRKD's pixel memory:
    the official entries are mostly not pixels of their class, ours all
    are; the rest of both memories is equal after the step."""
    cwd = _load('cwd')
    feat = cwd['checks']['cwd_feat']
    assert feat['arguments']['compared'] == 'ours vs official * 128 / 512'
    assert feat['value']['ours'] == pytest.approx(
        feat['official_unscaled'] * 128 / 512, rel=1e-5)
    assert any('128 / 512' in d for d in cwd['deviations'])
    wide = cwd['checks']['cwd_feat_equal_widths']
    assert wide['arguments']['student_feat'][1] == 512
    cirkd = _load('cirkd')
    share = cirkd['checks']['pixel_memory_entries']
    assert share['ours_share_of_class_pixels'] == 1.0
    assert share['official_share_of_class_pixels'] < 0.5
    after = cirkd['checks']['memories_after_step']
    assert after['region_ptr']['max_abs'] == 0
    assert after['pixel_ptr']['max_abs'] == 0
    assert after['pixel_queue_unwritten_slots']['max_abs'] == 0
    assert after['region_queue']['max_rel'] <= 1e-5
    assert cirkd['inputs']['memories'] == dict(pixel=20000, region=2000)
    for method in EXPECTED:
        if method not in ('cwd', 'cirkd'):
            assert _load(method)['deviations'] == [], method


# A stand-in for winycg/CIRKD's losses/at.py and losses/kd.py with their
# interface, computed by the oracles of tests/_oracles.py; SCALE != 1 makes
# its AT loss wrong.
STAND_IN_AT = '''
import torch.nn as nn
from _oracles import reference_at
SCALE = {scale}


class CriterionAT(nn.Module):

    def forward(self, feat_S, feat_T):
        return SCALE * reference_at(feat_S, feat_T)
'''
STAND_IN_KD = '''
import torch.nn as nn
from _oracles import reference_pixel_kd


class CriterionKD(nn.Module):

    def __init__(self, temperature=1):
        super().__init__()
        self.temperature = temperature

    def forward(self, pred, soft):
        return reference_pixel_kd(pred, soft, self.temperature)
'''


@pytest.mark.slow
@pytest.mark.parametrize('scale, passed', [(1.0, True), (1.5, False)])
def test_the_tool_passes_the_official_computation_and_fails_a_wrong_one(
        tmp_path, scale, passed):
    losses = tmp_path / 'official' / 'losses'
    losses.mkdir(parents=True)
    (losses / 'at.py').write_text(STAND_IN_AT.format(scale=scale))
    (losses / 'kd.py').write_text(STAND_IN_KD)
    out = tmp_path / 'result.json'
    result = run_check_official('at', str(tmp_path / 'official'), str(out),
                                passed)
    assert result['checks']['pixel_kd']['value']['max_rel'] <= 1e-5
    at = result['checks']['at']
    assert at['value']['max_rel'] == pytest.approx(
        abs(1 - 1 / scale), abs=1e-5)
    assert (at['grad_student_feat']['max_rel'] <= 1e-5) is passed
