# Copyright (c) mmrdd contributors. All rights reserved.
"""tools/analysis_tools/check_official.py: its helpers, the result file it
wrote against the official MasKD code (committed), and the tool itself on a
stand-in for the official files (this repository holds none of their
code): it passes on the official computation and fails on a wrong one."""
import json
import os.path as osp

import pytest
import torch
from conftest import ROOT, run_check_official

from mmrdd_lab.official.checks import difference, worst
from mmrdd_lab.official.common import load_module, official_commit

MASKD_JSON = osp.join(ROOT, 'docs', 'results', 'official_maskd.json')
MASKD_COMMIT = 'b5af34fe343f1b82689291871f85b97a6aea4278'

# A stand-in with the official files' interface, computed by the oracles
# of tests/_oracles.py; SCALE != 1 makes its MasKD loss wrong.
STAND_IN_MASKD = '''
import torch
import torch.nn as nn
from _oracles import (reference_dice_overlap, reference_maskd_loss,
                      reference_maskd_masks)
SCALE = {scale}


class MaskModule(nn.Module):

    def __init__(self, channels, num_tokens=8):
        super().__init__()
        self.mask_token = nn.Parameter(torch.zeros(num_tokens, channels))

    def forward_mask(self, x):
        return reference_maskd_masks(x, self.mask_token)

    def forward(self, x):
        m = self.forward_mask(x)
        out = (x.unsqueeze(1) * m.unsqueeze(2)).sum(1)
        return out, reference_dice_overlap(m)


class MasKDLoss(nn.Module):

    def __init__(self, channels, num_tokens=8, pretrained=''):
        super().__init__()
        self.tokens = torch.load(pretrained)['mask_token']

    def forward(self, y_s, y_t):
        return SCALE * reference_maskd_loss(y_s, y_t, self.tokens)
'''
STAND_IN_LOSS = '''
import torch.nn as nn
import torch.nn.functional as F


class SegCrossEntropyLoss(nn.Module):

    def __init__(self, ignore_index=-1):
        super().__init__()
        self.ce = nn.CrossEntropyLoss(ignore_index=ignore_index)

    def forward(self, x, y):
        x = F.interpolate(x, y.shape[-2:], mode='bilinear',
                          align_corners=True)
        return self.ce(x, y)
'''


def _stand_in(root, scale: float) -> str:
    losses = root / 'segmentation' / 'losses'
    losses.mkdir(parents=True)
    (losses / 'maskd.py').write_text(STAND_IN_MASKD.format(scale=scale))
    (losses / 'loss.py').write_text(STAND_IN_LOSS)
    return str(root)


def test_difference_is_relative_to_the_largest_official_entry():
    d = difference(torch.tensor(2.0), torch.tensor(2.5))
    assert d == dict(official=2.0, ours=2.5, max_abs=0.5, max_rel=0.25)
    g = difference(torch.tensor([0.0, 4.0]), torch.tensor([1e-3, 4.0]))
    assert g['max_abs'] == pytest.approx(1e-3)
    assert g['max_rel'] == pytest.approx(2.5e-4)
    assert 'official' not in g
    with pytest.raises(ValueError, match='shapes differ'):
        difference(torch.zeros(2), torch.zeros(3))
    assert worst(dict(a=dict(x=g, y=d, arguments=dict(w=1)))) == 0.25


def test_official_files_and_commit_are_required(tmp_path):
    with pytest.raises(FileNotFoundError, match='--official-root'):
        load_module(str(tmp_path), 'segmentation/losses/maskd.py')
    assert official_commit(str(tmp_path), 'abc') == 'abc'
    with pytest.raises(ValueError, match='--official-commit'):
        official_commit(str(tmp_path))


def test_committed_maskd_result_passes_on_the_configs_shapes():
    """The JSON the tool wrote against hunto/MasKD @ b5af34f: both stages,
    both MasKD terms and the released tokens, values and gradients within
    1e-5 relative, on the Cityscapes configs' shapes and arguments."""
    with open(MASKD_JSON) as f:
        result = json.load(f)
    assert result['method'] == 'maskd'
    assert result['official']['repository'] == 'hunto/MasKD'
    assert result['official']['commit'] == MASKD_COMMIT
    assert result['passed'] is True and result['tolerance'] == 1e-5
    checks = result['checks']
    assert set(checks) == {
        'stage2_decode', 'stage2_aux', 'stage1', 'stage2_released_tokens'
    }
    compared = 0
    for check in checks.values():
        for name, d in check.items():
            if isinstance(d, dict) and 'max_rel' in d:
                assert d['max_rel'] <= 1e-5, name
                compared += 1
    assert compared == 11
    assert checks['stage2_decode']['arguments']['loss_weight'] == 1.0
    assert checks['stage2_aux']['arguments']['loss_weight'] == 0.4
    assert 'grad_tokens' in checks['stage1']
    assert result['inputs']['student_logits'] == [4, 19, 64, 128]
    assert result['inputs']['labels'] == [4, 512, 1024]
    assert result['inputs']['tokens'] == [8, 19]
    assert result['inputs']['ignored_share'] > 0
    # not a degenerate comparison: the losses are far from 0
    assert checks['stage2_decode']['value']['official'] > 0.1


@pytest.mark.slow
@pytest.mark.parametrize('scale, passed', [(1.0, True), (2.0, False)])
def test_the_tool_passes_the_official_computation_and_fails_a_wrong_one(
        tmp_path, scale, passed):
    root = _stand_in(tmp_path / 'official', scale)
    out = tmp_path / 'result.json'
    result = run_check_official('maskd', root, str(out), passed)
    assert 'stage2_released_tokens' not in result['checks']  # no such file
    stage1 = result['checks']['stage1']
    assert stage1['grad_tokens']['max_rel'] <= 1e-5  # stage 1 is right
    decode = result['checks']['stage2_decode']['value']
    assert decode['max_rel'] == pytest.approx(abs(1 - 1 / scale), abs=1e-5)


def test_every_method_passed_and_the_docs_table_is_its_result_files():
    """The eleven result files exist, passed at 1e-5, and
    docs/kd_family.md shows exactly what they hold."""
    from mmrdd_lab.official.checks import summary_table
    methods = ('at', 'cwd', 'fitnet', 'skd', 'ifvd', 'dsd', 'cirkd', 'dist',
               'maskd', 'afdcd', 'kt')
    paths = [
        osp.join(ROOT, 'docs', 'results', f'official_{m}.json')
        for m in methods
    ]
    table = summary_table(paths)
    rows = table.split('\n')[2:]
    assert [r.split(' | ')[0][2:] for r in rows] == list(methods)
    assert all(r.endswith('| 1e-05 | yes |') for r in rows), table
    with open(osp.join(ROOT, 'docs', 'kd_family.md')) as f:
        assert table in f.read()
