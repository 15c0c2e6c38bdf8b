# Copyright (c) mmrdd contributors. All rights reserved.
"""docs/toy_regime.md shows what the result files hold: its tables are the
tools' renderings of the committed JSON files, and every decimal number in
it is one of theirs (or a config constant listed here)."""
import json
import os.path as osp
import re

from conftest import ROOT

from mmrdd_lab.demo import SEEDS_RESULT, format_table
from mmrdd_lab.seeds import format_markdown
from mmrdd_lab.toy_teacher import PUBLISHED_MANIFEST

DOC = osp.join(ROOT, 'docs', 'toy_regime.md')
DEMO_RESULT = 'docs/results/demo_toy.json'
COLD_RESULT = 'docs/results/demo_cold_make.json'
#: Decimals of the doc that are settings, not results: TSE's thresh and
#: the min_class_share of the rdd-keep variant's config.
CONSTANTS = {'0.7', '0.05'}


def _read(path: str):
    with open(osp.join(ROOT, path), encoding='utf-8') as f:
        return json.load(f) if path.endswith('.json') else f.read()


def _floats(value):
    """Every float in a JSON value, recursively."""
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


def test_the_seed_tables_are_the_seeds_tool_s():
    assert format_markdown(_read(SEEDS_RESULT)) in _read(DOC)


def test_the_demo_table_is_the_cold_demo_s():
    demo = _read(DEMO_RESULT)
    assert format_table(demo['rows'], demo['classes']) in _read(DOC)
    assert demo['command'] in _read(DOC)


def test_the_cold_demo_time_is_the_timed_run_s():
    cold = _read(COLD_RESULT)
    assert f'{cold["wall_s"]:.0f} s of wall time' in _read(DOC)
    assert cold['command'] in _read(DOC)


def test_the_teacher_line_is_its_manifest_s():
    manifest = _read(PUBLISHED_MANIFEST)
    doc = _read(DOC)
    assert manifest['sha256'] in doc
    assert f'{manifest["size_bytes"] / 2**20:.1f} MiB' in doc
    assert f'{manifest["num_params"] / 1e6:.2f} M parameters' in doc
    assert f'{manifest["test"]["mIoU"]:.2f} mIoU' in doc


def test_every_decimal_in_the_doc_comes_from_a_result_file():
    files = (SEEDS_RESULT, DEMO_RESULT, COLD_RESULT, PUBLISHED_MANIFEST)
    known = set(CONSTANTS)
    for path in files:
        for x in _floats(_read(path)):
            for fmt in ('{:.2f}', '{:+.2f}', '{:.1f}', '{:+.1f}', '{:.0f}'):
                known.add(fmt.format(x))
    manifest = _read(PUBLISHED_MANIFEST)
    known.add(f'{manifest["size_bytes"] / 2**20:.1f}')
    known.add(f'{manifest["num_params"] / 1e6:.2f}')
    text = _read(DOC).replace('\u2212', '-')
    # decimals, not the parts of versions, file names or hashes
    found = re.findall(r'(?<![\w.])[-+]?\d+\.\d+(?![\w.])', text)
    assert found, 'no numbers found: the pattern is wrong'
    unknown = sorted({n for n in found if n not in known})
    assert not unknown, f'numbers in {DOC} that no result file holds: ' \
        f'{unknown}'
