# Copyright (c) mmrdd contributors. All rights reserved.
"""A shortened `make demo`: progress bars, the table on the test split, the
summary figure and the difficulty PNGs come out, with sane values; the
verdict beside it is read from the seeds tool's JSON, and a re-trained
teacher retrains the runs distilled from it."""
import copy
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import ROOT, run_tool, tool_options

from mmrdd.datasets.toy_generator import CLASSES
from mmrdd_lab.demo import SEEDS_RESULT, verdict_lines
from mmrdd_lab.seeds import DEFAULT_VARIANTS

TINY = [
    '--num-train', '8', '--num-val', '3', '--num-test', '4', '--iters', '4',
    '--num-vis', '2', *tool_options()
]


@pytest.mark.slow
def test_demo_pipeline_produces_table_and_pngs(tmp_path):
    work_dir = tmp_path / 'demo'
    where = [
        '--work-dir',
        str(work_dir), '--data-root',
        str(tmp_path / 'toyseg')
    ]
    out = run_tool('tools/demo.py', *where, *TINY, timeout=900)
    results = json.loads((work_dir / 'results.json').read_text())
    names = [row['name'] for row in results['rows']]
    assert names == ['teacher', 'student alone', 'pixel KD', 'RDD + pixel KD']
    assert results['classes'] == list(CLASSES)
    for row in results['rows']:
        assert 0 <= row['mIoU'] <= 100
        assert row['num_images'] == 4  # the held-out test split
        values = [v for v in row['per_class'].values() if v == v]
        assert values and all(0 <= v <= 100 for v in values)
        assert abs(np.mean(values) - row['mIoU']) < 1e-6
    # the committed teacher (not trained here), the students trained
    assert results['rows'][0]['time_s'] is None
    assert results['teacher']['source'] == 'committed'
    assert all(row['time_s'] > 0 for row in results['rows'][1:])
    assert results['split'] == 'test' and results['iters'] == 4
    table = (work_dir / 'results.txt').read_text()
    assert table in out  # printed as well
    assert 'RDD + pixel KD' in table and 'mIoU' in table
    # the verdict as measured earlier, with its command; this 4-iteration
    # run is not one of its seeds
    report = json.loads(open(osp.join(ROOT, SEEDS_RESULT)).read())
    assert f'multi-seed verdict, measured earlier ({report["date"]})' in out
    assert report['command'] in out
    assert 'this run is not part of it: student alone: the data set ' \
        'changed' in out and '+train_cfg.max_iters=4' in out
    # one progress bar per run (drawn once at the end off a terminal), the
    # stage switch echoed, MMEngine's banner only in the runs' logs
    assert 'run 1/4: the committed teacher checkpoints/toy/' in out
    for k, name in enumerate(names[1:], 2):
        assert f'run {k}/4 {name}' in out
    assert 'RDD stage TSE from iteration 0' in out
    assert 'System environment' not in out
    for variant in ('student', 'kd', 'rdd'):
        log = (work_dir / 'seed0' / variant / 'train.log').read_text()
        assert 'System environment' in log and 'Iter(train) [4/4]' in log
    png = cv2.imread(str(work_dir / 'summary.png'))
    assert png is not None and png.shape[0] > 400 and png.std() > 10
    assert f'summary figure: {work_dir / "summary.png"}' in out
    pngs = sorted((work_dir / 'difficulty').glob('*_rdd.png'))
    assert len(pngs) == 2
    for png in pngs:
        img = cv2.imread(str(png))
        assert img is not None and img.ndim == 3
        assert img.shape[1] > 5 * img.shape[0] // 2  # >= 5 tiles side by side
        assert img.std() > 10  # not a blank image
    assert f'everything is in {work_dir}' in out

    # issue 22: with another teacher (trained here) the runs distilled from
    # the committed one are trained again and say why; the student alone
    # does not depend on it and is reused (a teacher re-trained in place:
    # test_fingerprint.py)
    out = run_tool(
        'tools/demo.py',
        *where,
        *TINY,
        '--retrain-teacher',
        '--teacher-iters',
        '2',
        timeout=900)
    assert 'run 1/4: trained the teacher here' in out
    assert 'run 2/4 student alone: reusing the finished run' in out
    for k, name in ((3, 'pixel KD'), (4, 'RDD + pixel KD')):
        assert f'run {k}/4 {name}: training again, the finished run' in out
    # (the console wraps long lines at its width: compare words)
    words = ' '.join(out.split())
    assert words.count('does not apply: the teacher checkpoint changed') == 2
    again = json.loads((work_dir / 'results.json').read_text())
    assert again['teacher']['source'] == 'trained'
    assert again['rows'][0]['time_s'] > 0
    assert osp.isfile(work_dir / 'teacher.pth')
    teachers = [
        r['fingerprint']['contents']['model.teacher_ckpt']
        for r in (results['runs'][1], again['runs'][1])
    ]
    assert teachers[0] != teachers[1]


def _runs(seed=0, **changed):
    """The demo's three runs of ``seed`` with the fingerprints of the
    committed report's runs of seed 0 (``changed`` applied)."""
    report = json.loads(open(osp.join(ROOT, SEEDS_RESULT)).read())
    # the demo trains the default variants; the report may hold more
    runs = [
        copy.deepcopy(r) for r in report['runs']
        if r['seed'] == 0 and r['variant'] in DEFAULT_VARIANTS
    ]
    for r in runs:
        r['seed'] = seed
        r['fingerprint'].update(changed)
    return report, runs


def test_the_verdict_is_the_report_s_as_measured_earlier():
    report, runs = _runs()
    lines = verdict_lines(report, SEEDS_RESULT, runs)
    assert lines[:3] == [
        f'multi-seed verdict, measured earlier ({report["date"]}) with',
        f'    {report["command"]}',
        f'  and read from {SEEDS_RESULT}; test split, seeds 0 1 2 3 4:'
    ]
    rdd, kd = report['variants']['rdd'], report['variants']['kd']
    assert f'RDD + pixel KD {rdd["mean"]:.2f} +- {rdd["std"]:.2f}' in lines[3]
    assert f'pixel KD {kd["mean"]:.2f} +- {kd["std"]:.2f}' in lines[3]
    paired = report['paired']['rdd-kd']
    assert lines[4] == (
        '  RDD + pixel KD - pixel KD, paired: {:+.2f}, 95% bootstrap CI '
        '[{:+.2f}, {:+.2f}], ahead in {} of 5 seeds'.format(
            paired['mean'], *paired['ci95'], paired['wins']))
    # one line per paired comparison of the report, then the caveat
    assert 'a property of this toy data set' in lines[4 +
                                                      len(report['paired'])]
    # the same settings as its seed 0: said so, with the mIoU compared
    assert lines[-1].startswith('  this run has the settings of its seed 0')
    assert 'its mIoU is identical to it' in lines[-1]
    runs[2]['mIoU'] += 0.01
    assert 'not identical' in verdict_lines(report, SEEDS_RESULT, runs)[-1]


def test_a_run_with_other_settings_is_not_called_part_of_it():
    report, runs = _runs(threads=2)
    lines = verdict_lines(report, SEEDS_RESULT, runs)
    assert lines[-3] == ('  this run is not part of it: student alone: the '
                         'training threads changed (1 -> 2; CPU results '
                         'depend on them)')
    assert lines[-1].startswith('    RDD + pixel KD: the training threads')
    report, runs = _runs(seed=7)
    assert verdict_lines(report, SEEDS_RESULT, runs)[-3:] == [
        '  this run is not part of it: student alone: seed 7 is not in it',
        '    pixel KD: seed 7 is not in it',
        '    RDD + pixel KD: seed 7 is not in it'
    ]
    assert verdict_lines(None, 'x.json', runs) == [
        'no multi-seed verdict: x.json is missing (written by python '
        'tools/analysis_tools/seeds.py --out x.json)'
    ]
