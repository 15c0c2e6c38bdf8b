# Copyright (c) mmrdd contributors. All rights reserved.
"""The seeds tool on 2 tiny seeds: its JSON equals a direct computation
from its own per-run results, a second call reuses every run, and the
statistics and report helpers on fixed values."""
import json

import numpy as np
import pytest
from conftest import run_tool, tool_options

from mmrdd_lab.seeds import (_tse_classes, bootstrap_mean_ci, format_markdown,
                             pair_names, summarize)

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


@pytest.mark.slow
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
    assert report['teacher']['source'] == 'committed'
    assert report['command'] == (
        'python tools/analysis_tools/seeds.py --seeds 3 5 --work-dir ' +
        str(work_dir) + ' --data-root ' + str(tmp_path / 'toyseg') +
        f' --out {out} --num-boot 500 --boot-seed 7 --jobs 2 ' +
        ' '.join(TINY))
    assert 'paired rdd-kd' in log and str(out) in log
    # no paths in the committed kind of file
    assert not any(k in r for r in runs for k in ('run_dir', 'checkpoint'))
    # the seed is the init protocol: the three variants of a seed start
    # from the same weights, two seeds from two; every distilled run from
    # the committed teacher
    inits, teachers = {}, set()
    for r in runs:
        contents = r['fingerprint']['contents']
        inits.setdefault(r['seed'],
                         set()).update(v for k, v in contents.items()
                                       if k.endswith('init_cfg.checkpoint'))
        if r['variant'] != 'student':
            teachers.add(contents['model.teacher_ckpt'])
    assert all(len(v) == 1 for v in inits.values())
    assert len(set.union(*inits.values())) == 2
    assert len(teachers) == 1

    # a second call reuses every finished run (nothing is trained again)
    log2 = _seeds_tool(tmp_path, timeout=600)
    assert 'training, log:' not in log2 and log2.count('reusing') == 6
    again = json.loads(out.read_text())
    assert again['runs'] == runs
    assert format_markdown(again) == format_markdown(report)
    # --show prints the file's tables and the command that wrote it (the
    # second call's, without --jobs)
    shown = run_tool('tools/analysis_tools/seeds.py', '--show', str(out))
    assert format_markdown(again) in shown and again['command'] in shown
    assert '--jobs' not in again['command']


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


REPORT = dict(
    variants=dict(
        kd=dict(
            name='pixel KD',
            seeds=[0, 2],
            mIoU=[40.0, 42.5],
            mean=41.25,
            std=1.7678),
        rdd=dict(
            name='RDD + pixel KD',
            seeds=[0, 2],
            mIoU=[41.0, 42.0],
            mean=41.5,
            std=0.7071)),
    paired={
        'rdd-kd':
        dict(
            seeds=[0, 2],
            diffs=[1.0, -0.5],
            mean=0.25,
            std=1.0607,
            ci95=[-0.5, 1.0],
            wins=1)
    })


def test_the_markdown_tables_of_a_report():
    assert format_markdown(REPORT).split('\n') == [
        '| seed | pixel KD | RDD + pixel KD | RDD + pixel KD − pixel KD |',
        '| --- | ---: | ---: | ---: |',
        '| 0 | 40.00 | 41.00 | +1.00 |',
        '| 2 | 42.50 | 42.00 | -0.50 |',
        '| mean ± std | 41.25 ± 1.77 | 41.50 ± 0.71 | +0.25 ± 1.06 |',
        '',
        '| comparison | mean | 95% interval | ahead in |',
        '| --- | ---: | --- | ---: |',
        '| RDD + pixel KD − pixel KD | +0.25 | [-0.50, +1.00] | 1 of 2 |',
    ]


def test_pair_names_split_on_the_variants_not_on_the_dash():
    variants = {
        'rdd': dict(name='RDD'),
        'rdd-wkd': dict(name='RDD + wKD'),
        'kd': dict(name='KD')
    }
    assert pair_names('rdd-wkd-kd', variants) == ('RDD + wKD', 'KD')
    assert pair_names('rdd-kd', variants) == ('RDD', 'KD')
    with pytest.raises(KeyError, match='not <variant>-<variant>'):
        pair_names('cwd-kd', variants)
