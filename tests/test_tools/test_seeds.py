# Copyright (c) mmrdd contributors. All rights reserved.
"""The seeds tool on 2 tiny seeds: its JSON equals a direct computation
from its own per-run results, and the statistics helpers on fixed values."""
import json

import numpy as np
import pytest
from conftest import run_tool, tool_options

from mmrdd_lab.seeds import _tse_classes, bootstrap_mean_ci, summarize

pytestmark = pytest.mark.slow

TINY = [
    '--num-train', '8', '--num-val', '2', '--num-test', '3', '--iters', '2',
    *tool_options('default_hooks.logger.interval=1')
]


def _seeds_tool(tmp_path, *jobs, timeout) -> str:
    """Run the seeds tool on seeds 3 and 5 of the tiny runs; its log."""
    return run_tool(
        'tools/analysis_tools/seeds.py',
        '--seeds',
        '3',
        '5',
        '--work-dir',
        str(tmp_path / 'seeds'),
        '--data-root',
        str(tmp_path / 'toyseg'),
        '--out',
        str(tmp_path / 'seeds.json'),
        '--num-boot',
        '500',
        '--boot-seed',
        '7',
        *jobs,
        *TINY,
        timeout=timeout)


def _direct_bootstrap(diffs, num_boot, seed):
    """The percentile bootstrap written out: the same resampled seed
    indices (one draw of num_boot x n from the seeded generator), each
    resample averaged in a loop, then the 2.5% and 97.5% quantiles."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(diffs), size=(num_boot, len(diffs)))
    means = [sum(diffs[i] for i in row) / len(row) for row in index]
    return np.quantile(means, [0.025, 0.975])


def test_seeds_tool_json_matches_its_runs(tmp_path):
    work_dir = tmp_path / 'seeds'
    out = tmp_path / 'seeds.json'
    log = _seeds_tool(tmp_path, '--jobs', '2', timeout=900)
    report = json.loads(out.read_text())
    runs = report['runs']
    assert sorted((r['seed'], r['variant']) for r in runs) == [
        (s, v) for s in (3, 5) for v in ('kd', 'rdd', 'student')
    ]
    for r in runs:
        assert r['num_images'] == 3  # the test split
        values = [v for v in r['per_class'].values() if v == v]
        assert values and abs(np.mean(values) - r['mIoU']) < 1e-6
        assert r['time_s'] > 0
        assert (work_dir / f'seed{r["seed"]}' / r['variant'] /
                'train.log').is_file()
    miou = {(r['seed'], r['variant']): r['mIoU'] for r in runs}
    for variant in ('student', 'kd', 'rdd'):
        got = report['variants'][variant]
        values = [miou[(3, variant)], miou[(5, variant)]]
        assert got['seeds'] == [3, 5]
        assert got['mIoU'] == values
        assert got['mean'] == pytest.approx(np.mean(values), abs=1e-12)
        assert got['std'] == pytest.approx(
            abs(values[0] - values[1]) / np.sqrt(2), abs=1e-12)
    for a, b in (('rdd', 'kd'), ('kd', 'student'), ('rdd', 'student')):
        got = report['paired'][f'{a}-{b}']
        diffs = [miou[(s, a)] - miou[(s, b)] for s in (3, 5)]
        assert got['diffs'] == pytest.approx(diffs, abs=1e-12)
        assert got['mean'] == pytest.approx(np.mean(diffs), abs=1e-12)
        assert got['wins'] == sum(d > 0 for d in diffs)
        assert got['num_boot'] == 500 and got['boot_seed'] == 7
        np.testing.assert_allclose(
            got['ci95'], _direct_bootstrap(diffs, 500, 7), atol=1e-12)
    assert 0 <= report['teacher']['mIoU'] <= 100
    assert 'paired rdd-kd' in log and str(out) in log
    # the seed is the init protocol: the three variants of a seed start
    # from one checkpoint, two seeds from two
    inits = {
        r['seed']: [o for o in r['options'] if 'init_cfg.checkpoint' in o]
        for r in runs
    }
    assert all(len(v) == 1 for v in inits.values())
    assert len({v[0].split('=', 1)[1] for v in inits.values()}) == 2

    # a second call reuses every finished run (nothing is trained again)
    log2 = _seeds_tool(tmp_path, timeout=600)
    assert 'training, log:' not in log2
    assert json.loads(out.read_text())['runs'] == runs


def test_summarize_and_bootstrap_on_fixed_values():
    results = [
        dict(variant=v, seed=s, mIoU=m, per_class=dict(a=m, b=float('nan')))
        for v, values in (('kd', (40.0, 42.0, 41.0)), ('rdd', (41.0, 45.0,
                                                               40.0)))
        for s, m in zip((0, 1, 2), values)
    ]
    out = summarize(results, pairs=[('rdd', 'kd')], num_boot=2000, boot_seed=1)
    assert out['variants']['kd']['mean'] == pytest.approx(41.0)
    assert out['variants']['kd']['std'] == pytest.approx(1.0)
    assert out['variants']['rdd']['per_class_mean']['a'] == pytest.approx(42.0)
    paired = out['paired']['rdd-kd']
    assert paired['diffs'] == [1.0, 3.0, -1.0]
    assert paired['mean'] == pytest.approx(1.0)
    assert paired['wins'] == 2
    np.testing.assert_allclose(paired['ci95'],
                               _direct_bootstrap([1.0, 3.0, -1.0], 2000, 1))
    low, high = paired['ci95']
    assert -1.0 <= low < 1.0 < high <= 3.0
    # the same per class; a class without IoU has no mean and no interval
    per_class = paired['per_class']
    assert per_class['a']['diffs'] == [1.0, 3.0, -1.0]
    assert per_class['a']['mean'] == pytest.approx(1.0)
    assert per_class['a']['ci95'] == paired['ci95']
    assert np.isnan(per_class['b']['mean']) and per_class['b']['ci95'] is None
    # identical differences: a zero-width interval at that value
    assert bootstrap_mean_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(ValueError, match='at least 2 values'):
        bootstrap_mean_ci([1.0])


def test_what_tse_kept_of_each_class_is_read_from_the_run(tmp_path):
    run = tmp_path / 'run'
    (run / '20260101_000000' / 'vis_data').mkdir(parents=True)
    records = [
        {
            'loss': 1.0,
            'step': 20
        },  # TFE: no class shares
        {
            'rdd/tse_kept/wire': 0.25,
            'rdd/tse_kept/rock': 0.5,
            'step': 40
        },
        {
            'rdd/tse_kept/wire': 0.75,
            'rdd/tse_kept/rock': float('nan'),
            'step': 60
        },
    ]
    (run / '20260101_000000' / 'vis_data' /
     'scalars.json').write_text('\n'.join(json.dumps(r)
                                          for r in records) + '\n')
    (run / 'train.log').write_text(
        "x - WARNING - RDD: TSE starves 2 class(es) of task-loss signal: ...: "
        "'wire' (kept 0.0% of 9 pixels; ...), 'pebble' (kept 1.0% of 8 "
        'pixels; ...). rdd/tse_kept/<class> ...\n')
    classes = _tse_classes(str(run))
    assert classes == dict(
        kept=dict(wire=0.5, rock=0.5), starved=['wire', 'pebble'])
    results = [
        dict(
            variant='rdd',
            seed=s,
            mIoU=1.0,
            per_class=dict(a=1.0),
            tse_classes=dict(kept=dict(wire=w), starved=[]))
        for s, w in ((0, 0.1), (1, 0.3))
    ]
    summary = summarize(results)
    assert summary['variants']['rdd']['tse_kept_mean'] == {
        'wire': pytest.approx(0.2)
    }
