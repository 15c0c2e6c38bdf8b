# Copyright (c) mmrdd contributors. All rights reserved.
"""docs/benchmarks.md shows what the benchmark's result files hold: each
table is :func:`mmrdd_lab.benchmark.format_markdown` of its committed JSON,
written beside the command that made it."""
import json
import os.path as osp

import pytest
from conftest import ROOT

from mmrdd_lab.benchmark import format_markdown

DOC = osp.join(ROOT, 'docs', 'benchmarks.md')
RESULTS = ('kd_costs_toy.json', 'kd_augment_costs_toy.json',
           'kd_checkpoint_sizes_cityscapes.json')


def _doc() -> str:
    with open(DOC, encoding='utf-8') as f:
        return f.read()


@pytest.mark.parametrize('name', RESULTS)
def test_each_table_is_its_result_file_s(name):
    path = osp.join(ROOT, 'docs', 'results', name)
    with open(path) as f:
        report = json.load(f)
    doc = _doc()
    assert format_markdown(report) in doc
    assert f'--out docs/results/{name}' in doc


def test_the_cost_table_covers_every_method_alone_and_with_rdd():
    from mmrdd_lab.benchmark import KD_METHODS
    with open(osp.join(ROOT, 'docs', 'results', 'kd_costs_toy.json')) as f:
        results = json.load(f)['results']
    for method in KD_METHODS:
        for name in (method, f'rdd+{method}'):
            r = results[name]
            assert r['time']['median_ms'] > 0
            assert r['ratio_to_student'] > 0 and r['ratio_to_baseline'] > 0
            assert r['memory']['peak_mib'] > 0
            assert r['checkpoint']['without_teacher_mib'] > 0
    assert results['pixel-kd']['paired_ratio_to_baseline'] == 1.0
    assert results['student']['paired_ratio_to_student'] == 1.0


def test_the_masks_table_is_its_result_file_s():
    from mmrdd_lab.benchmark_masks import format_tables
    with open(osp.join(ROOT, 'docs', 'results', 'masks_cpu.json')) as f:
        results = json.load(f)['results']
    assert format_tables(results) in _doc()
