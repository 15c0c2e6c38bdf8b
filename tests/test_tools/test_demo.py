# Copyright (c) mmrdd contributors. All rights reserved.
"""A shortened `make demo`: progress bars, the table on the test split, the
summary figure and the difficulty PNGs come out, with sane values."""
import json
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from conftest import ROOT, run_tool, tool_options

from mmrdd.datasets.toy_generator import CLASSES

pytestmark = pytest.mark.slow


def test_demo_pipeline_produces_table_and_pngs(tmp_path):
    work_dir = tmp_path / 'demo'
    out = run_tool(
        'tools/demo.py',
        '--work-dir',
        str(work_dir),
        '--data-root',
        str(tmp_path / 'toyseg'),
        '--num-train',
        '8',
        '--num-val',
        '3',
        '--num-test',
        '4',
        '--iters',
        '4',
        '--num-vis',
        '2',
        *tool_options(),  # teacher_check.min_miou=0: a 4-iteration teacher
        timeout=900)
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
    for row in results['rows']:  # the teacher was trained here too
        assert row['time_s'] > 0
    assert results['split'] == 'test' and results['iters'] == 4
    table = (work_dir / 'results.txt').read_text()
    assert table in out  # printed as well
    assert 'RDD + pixel KD' in table and 'mIoU' in table
    assert 'multi-seed verdict' in out
    # one progress bar per run (drawn once at the end off a terminal), the
    # stage switch echoed, MMEngine's banner only in the runs' logs
    names = ['teacher', 'student alone', 'pixel KD', 'RDD + pixel KD']
    for k, name in enumerate(names, 1):
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
    assert osp.isfile(work_dir / 'teacher.pth')


def test_the_demo_prints_the_readme_multi_seed_verdict():
    """Every number of the verdict ``make demo`` prints stands in the
    README's "Over seeds" section (minus signs as typeset there)."""
    from mmrdd_lab.demo import MULTI_SEED_VERDICT
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read().replace('\u2212', '-')
    section = readme.split('### Over seeds', 1)[1].split('\n## ', 1)[0]
    numbers = re.findall(r'[-+]?\d+\.\d+', MULTI_SEED_VERDICT)
    assert len(numbers) >= 10, numbers
    missing = [n for n in numbers if n not in section]
    assert not missing, f'not in the README: {missing}'
