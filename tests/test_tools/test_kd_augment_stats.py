# Copyright (c) mmrdd contributors. All rights reserved.
"""kd_augment_stats: T. stddev of seeded teacher outputs against a plain
computation, and the tool on the toy teacher (table printed, all finite)."""
import json
import math

import pytest
import torch
from conftest import data_options, run_tool

from mmrdd.models import CandidatePicker
from mmrdd_lab.kd_augment_stats import augment_stats, pick_variant

pytestmark = pytest.mark.slow

C = 4


def fake_teacher():
    """A fixed seeded 1x1 convolution + 2x2 pooling: (N, 3, H, W) ->
    (N, C, H/2, W/2) logits."""
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(C, 3, 1, 1, generator=g) * 3

    def run(x):
        return torch.nn.functional.avg_pool2d(
            torch.nn.functional.conv2d(x, weight), 2)

    return run


def batches(num=6, n=2, seed=0):
    from _toy_models import batch
    return [batch(n=n, size=(8, 10), seed=seed + i) for i in range(num)]


def plain(logit_batches, group):
    """Subset means from explicit per-pixel softmax sums."""
    means = []
    for g in range(len(logit_batches) // group):
        total, pixels = [0.0] * C, 0
        for z in logit_batches[g * group:(g + 1) * group]:
            for i in range(z.shape[0]):
                for y in range(z.shape[2]):
                    for x in range(z.shape[3]):
                        e = [math.exp(v) for v in z[i, :, y, x].tolist()]
                        for c in range(C):
                            total[c] += e[c] / sum(e)
                        pixels += 1
        means.append([t / pixels for t in total])
    stds = []
    for c in range(C):
        col = [m[c] for m in means]
        mu = sum(col) / len(col)
        stds.append(math.sqrt(sum((v - mu)**2 for v in col) / (len(col) - 1)))
    return sum(stds) / C


@pytest.mark.parametrize('group', [1, 2])
def test_t_stddev_equals_a_plain_computation(group):
    teacher, data = fake_teacher(), batches()
    stats = augment_stats(
        data, teacher, {
            'none': lambda x, s, t: t(x)
        }, group=group)
    ref = plain([teacher(x) for x, _ in data], group)
    assert stats['none']['subsets'] == 6 // group
    assert stats['none']['t_stddev'] == pytest.approx(ref, rel=1e-5)
    with pytest.raises(ValueError, match='subsets'):
        augment_stats(data[:1], teacher, {'none': lambda x, s, t: t(x)})


def test_pick_variant_keeps_the_highest_teacher_entropy():
    teacher, (x, samples) = fake_teacher(), batches(1, n=3)[0]
    cfg = dict(pool=2, augments=dict(type='SegCutMix', prob=1.0, seed=4))
    got = pick_variant(CandidatePicker(**cfg))(x, samples, teacher)
    images, _ = CandidatePicker(**cfg).candidates(x, samples)
    z = teacher(images)
    p = torch.softmax(z, 1)
    ent = (-(p * p.log()).sum(1)).mean(dim=(1, 2)).tolist()
    keep = sorted(sorted(range(6), key=lambda i: -ent[i])[:3])
    torch.testing.assert_close(got, z[keep])


def test_tool_on_the_toy_teacher(toy_data, teacher_run, tmp_path):
    out = tmp_path / 'stats.json'
    opts = data_options(toy_data) + [
        f'model.teacher_ckpt={teacher_run["ckpt"]}'
    ]
    log = run_tool(
        'tools/analysis_tools/kd_augment_stats.py',
        'configs/rdd/rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_'
        '1xb8-2k_toyseg-96x96.py', '--batches', '4', '--out', str(out),
        '--cfg-options', *opts)
    assert 'T. stddev' in log and 'cutmixpick' in log
    stats = json.loads(out.read_text())
    assert list(stats)[:3] == ['none', 'cutmix', 'mixup']
    assert len(stats) == 4
    for s in stats.values():
        assert s['subsets'] == 4
        assert math.isfinite(s['t_stddev']) and s['t_stddev'] >= 0
        assert 0 < s['entropy'] <= math.log(8)
    # the same batches, other inputs: the augmentations change the teacher
    assert len({s['t_stddev'] for s in stats.values()}) == 4
