# Copyright (c) mmrdd contributors. All rights reserved.
"""The README and docs/: a product page, links that resolve, snippets that
load, numbers that match their source.

The README is the front door (under 250 lines, ``pip install`` on its first
screen, the two commands); every page of docs/ is reachable from it; every
relative link of README.md and docs/*.md names a file of the repository
(and a heading of it, for ``#anchors`` into Markdown); every config snippet
loads with MMEngine's ``Config`` and its model builds; the results table
carries the paper's numbers as configs/rdd/README.md states them.
"""
import glob
import json
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmrdd  # noqa: F401  (registers the mmrdd:: config scope)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
README = osp.join(ROOT, 'README.md')
DOCS = osp.join(ROOT, 'docs')
PAGES = [README] + sorted(glob.glob(osp.join(DOCS, '*.md')))
# pages whose links are checked besides: the configs' README
LINKED = PAGES + [osp.join(ROOT, 'configs', 'rdd', 'README.md')]
# [text](target) and ![alt](target); the target up to a space or ')'
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
FENCE = re.compile(r'^```.*?^```', flags=re.S | re.M)


def read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def rel(path: str) -> str:
    return osp.relpath(path, ROOT)


def links(path: str) -> list:
    """The link targets of a Markdown page, outside code blocks."""
    return LINK.findall(FENCE.sub('', read(path)))


def is_external(target: str) -> bool:
    return re.match(r'[a-z][a-z0-9+.-]*:', target) is not None


def split_target(page: str, target: str):
    """``(absolute path or None for the page itself, anchor or None)``."""
    path, _, anchor = target.partition('#')
    full = osp.normpath(osp.join(osp.dirname(page), path)) if path else None
    return full, anchor or None


def slugs(path: str) -> set:
    """GitHub's anchors of a Markdown page's headings."""
    found, seen = set(), {}
    for heading in re.findall(
            r'^#{1,6}\s+(.+?)\s*$', FENCE.sub('', read(path)), flags=re.M):
        text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)
        slug = re.sub(r'[^\w\- ]', '', text.lower()).replace(' ', '-')
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f'{slug}-{n}')
    return found


def python_blocks(path: str) -> list:
    return re.findall(r'^```python\n(.*?)^```', read(path), flags=re.S | re.M)


def config_snippets() -> list:
    """``(page, index, text)`` of every python block that is a config (it
    sets ``_base_``)."""
    return [(rel(page), i, block) for page in PAGES
            for i, block in enumerate(python_blocks(page))
            if re.search(r'^_base_\s*=', block, flags=re.M)]


def load_snippet(text: str, tmp_path) -> Config:
    """Load a snippet as a file of ``configs/rdd/`` would load: its
    relative bases (``../_base_/...``) resolve to the repository's."""
    (tmp_path / 'rdd').mkdir(exist_ok=True)
    base = tmp_path / '_base_'
    if not base.exists():
        base.symlink_to(osp.join(ROOT, 'configs', '_base_'))
    path = tmp_path / 'rdd' / 'snippet.py'
    path.write_text(text)
    return Config.fromfile(str(path))


# ------------------------------------------------------------------ README


def test_readme_is_a_product_page():
    text = read(README)
    lines = text.splitlines()
    assert len(lines) < 250, len(lines)
    # `pip install` on the first screen, the two commands, the status line
    first_screen = '\n'.join(lines[:50])
    assert re.search(r'^pip install \S', first_screen, flags=re.M)
    commands = re.findall(r'^make (\w+)', text, flags=re.M)
    assert commands == ['demo', 'test'], commands
    assert '**Status.**' in first_screen
    assert 'targets' in first_screen
    # no lab notebook on the front page
    assert not re.search(r'load average', text, flags=re.I)


def test_every_docs_page_is_reachable_from_the_readme():
    reached, todo = set(), [README]
    while todo:
        page = todo.pop()
        if page in reached or not osp.isfile(page):
            continue
        reached.add(page)
        for target in links(page):
            full, _ = split_target(page, target)
            if (not is_external(target) and full and full.endswith('.md')
                    and full.startswith(DOCS)):
                todo.append(full)
    pages = set(glob.glob(osp.join(DOCS, '*.md')))
    assert len(pages) >= 10
    assert pages <= reached, sorted(map(rel, pages - reached))
    # and the table of contents lists every page
    index = {
        split_target(osp.join(DOCS, 'index.md'), t)[0]
        for t in links(osp.join(DOCS, 'index.md'))
    }
    assert pages - {osp.join(DOCS, 'index.md')} <= index, sorted(
        map(rel, pages - index))


@pytest.mark.parametrize('page', PAGES, ids=[rel(p) for p in PAGES])
def test_pages_speak_of_the_project_and_its_users(page):
    """Machines by their hardware; nothing of how the project is made."""
    words = re.findall(
        r'\b(sessions?|workplace|lent)\b', read(page), flags=re.I)
    assert not words, f'{rel(page)}: {words}'


@pytest.mark.parametrize('page', LINKED, ids=[rel(p) for p in LINKED])
def test_relative_links_resolve(page):
    """Every relative link names a file or folder of the repository, and an
    anchor names a heading of the Markdown page it points into."""
    broken = []
    for target in links(page):
        if is_external(target):
            continue
        full, anchor = split_target(page, target)
        if full is not None and not osp.exists(full):
            broken.append(target)
        elif anchor and (full or page).endswith('.md') and \
                anchor not in slugs(full or page):
            broken.append(target)
    assert not broken, f'{rel(page)}: {broken}'


def test_link_checks_are_not_vacuous(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('# A title: `x`, (y) + z\n\n## Two\n\n'
                    '[a](page.md#a-title-x-y--z) [b](#two) [c](missing.md) '
                    '[d](#three) ![e](pic.png "t") [f](https://example.com)\n'
                    '```bash\n[g](inside_a_fence.md)\n```\n')
    assert links(str(page)) == [
        'page.md#a-title-x-y--z', '#two', 'missing.md', '#three', 'pic.png',
        'https://example.com'
    ]
    assert slugs(str(page)) == {'a-title-x-y--z', 'two'}
    assert sum(len(links(p)) for p in PAGES) > 100


# -------------------------------------------------------------- snippets


def test_there_are_config_snippets():
    pages = {page for page, _, _ in config_snippets()}
    assert {'README.md', 'docs/usage.md'} <= pages, pages
    assert len(config_snippets()) >= 4


@pytest.mark.parametrize(
    'page,index,text',
    config_snippets(),
    ids=[f'{p}#{i}' for p, i, _ in config_snippets()])
def test_config_snippet_loads(page, index, text, tmp_path):
    cfg = load_snippet(text, tmp_path)
    assert cfg.custom_imports.imports == ['mmrdd'], page
    assert cfg.model.type in ('RDDSingleTeacherDistill',
                              'FrozenTeacherDistill'), page
    assert cfg.model.distiller.type == 'RDDDistiller'
    assert 'RDDStageHook' in [h['type'] for h in cfg.custom_hooks]


def test_readme_quick_start_sets_the_pair_and_rdd_keys(tmp_path):
    """The five keys of the quick start reach the loaded config, and the
    scoring command tests the snippet's student."""
    blocks = [b for p, _, b in config_snippets() if p == 'README.md']
    assert len(blocks) == 1
    text = blocks[0]
    assert len(text.strip().splitlines()) <= 15
    cfg = load_snippet(text, tmp_path)
    model = cfg.model
    student = 'mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_' \
        'cityscapes-512x1024.py'
    assert model.architecture == dict(cfg_path=student, pretrained=False)
    assert model.teacher.cfg_path == 'mmseg::deeplabv3plus/deeplabv3plus_' \
        'r101-d8_4xb2-80k_cityscapes-512x1024.py'
    assert model.teacher_ckpt.startswith('https://download.openmmlab.com/')
    assert model.distiller.switch_iter == 4000
    assert model.distiller.tse.min_kept == 100000
    # the base's RDD settings stay: thresh, XOR, the Cityscapes weights
    assert model.distiller.tse.thresh == 0.7
    assert model.distiller.tse.mode == 'xor'
    assert len(model.distiller.tse.class_weight) == 19
    # 10% of the schedule; min_kept for the base's 4 x 512 x 1024 batch
    assert model.distiller.switch_iter == cfg.train_cfg.max_iters // 10
    crop = cfg.crop_size
    assert model.distiller.tse.min_kept == round(
        100000 / (4 * 512 * 1024) * cfg.train_dataloader.batch_size * crop[0] *
        crop[1])
    readme = read(README)
    assert f'mmrdd-test {student} work_dirs/my_rdd/' in readme
    assert 'mmrdd.cli.train my_rdd.py --launcher pytorch' in readme


@pytest.mark.slow
@pytest.mark.parametrize(
    'page,index,text',
    config_snippets(),
    ids=[f'{p}#{i}' for p, i, _ in config_snippets()])
def test_config_snippet_model_builds(page, index, text, tmp_path):
    """The model builds (no download), its links are MMSeg's, and an
    ``https://`` teacher checkpoint is the one MMSeg publishes for the
    teacher's own config (tests/test_configs.py's checks)."""
    from test_configs import check_config
    cfg = load_snippet(text, tmp_path)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        links = check_config(cfg)
    assert cfg.model.teacher_ckpt in links


# --------------------------------------------------------------- numbers


def table_rows(text: str) -> list:
    """The cells of every Markdown table row."""
    return [[c.strip() for c in line.strip().strip('|').split('|')]
            for line in text.splitlines() if line.startswith('|')]


def test_readme_results_are_the_configs_readme_targets():
    """Each Cityscapes row of the README's results: the config it links and
    the paper's baseline and target, as configs/rdd/README.md lists them."""
    results = read(README).split('## Results', 1)[1].split('\n## ', 1)[0]
    source = {}
    for cells in table_rows(
            read(osp.join(ROOT, 'configs', 'rdd', 'README.md'))):
        found = re.findall(r'\]\(([^)]+\.py)\)', ' '.join(cells))
        if len(found) == 1 and len(cells) == 4:
            source[found[0]] = cells[2:4]
    rows = 0
    for cells in table_rows(results):
        found = re.findall(r'\]\(configs/rdd/([^)]+\.py)\)', ' '.join(cells))
        if not found:
            continue
        rows += 1
        assert cells[2:4] == source[found[0]], (found[0], cells)
        assert cells[4] == 'not run', cells
    assert rows == 3


def test_readme_fast_tier_time_is_its_result_file():
    """The README's ``make test-fast`` time is the measured one."""
    with open(osp.join(ROOT, 'docs', 'results', 'test_fast.json')) as f:
        measured = json.load(f)
    assert measured['command'] == 'make test-fast'
    said = re.search(
        r'`make test-fast` runs the tests not marked `slow` '
        r'\((\d+) s on a\s+2-core x86 VM: '
        r'\[docs/results/test_fast\.json\]', read(README))
    assert said, 'README: the fast tier and its result file'
    assert int(said.group(1)) == measured['wall_s']
    assert measured['wall_s'] < 180  # the fast tier's target
