"""Performance guard of RDD, and the benchmark tools' own checks.

``test_rdd_step_overhead_vs_pixel_kd`` fails when an RDD training step (TFE
or TSE stage) costs more than 15% over our pixel KD on the toy models, on
CPU: the signal of a regression such as a full sort, a Python loop over
pixels or classes, or a per-step host synchronisation in the RDD path.
"""
import importlib.util
import os.path as osp

import pytest
import torch

import mmrdd  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY = [
    osp.join(ROOT, 'configs', 'toy',
             'deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py'),
    osp.join(ROOT, 'configs', 'toy',
             'deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py')
]
RDD_CWD = osp.join(
    ROOT, 'configs', 'rdd',
    'rdd+cwd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_'
    'cityscapes-512x1024.py')
TOLERANCE = 1.15


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'_mmrdd_tool_{name}', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


benchmark = _load_tool('benchmark')
benchmark_masks = _load_tool('benchmark_masks')


@pytest.fixture
def one_thread():
    """One intra-op thread: far steadier timings on a shared 2-core VM."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _toy(*extra):
    args = benchmark.parse_args(TOY + [
        '--synthetic', '--batch-size', '4', '--crop', '128', '128',
        '--min-kept', 'auto', *extra
    ])
    setup = benchmark.load_setup(args)
    data, ref_s, ref_t = benchmark.prepare(args, setup)
    return setup, data, ref_s, ref_t


def test_rdd_step_overhead_vs_pixel_kd(one_thread):
    """RDD (TFE and TSE) within 15% of pixel KD per training step.

    One thread, process CPU time (not wall time: other processes on a
    shared machine then barely matter), the variants alternating step by
    step with a rotating order; the statistic is the median over rounds of
    the paired ratio. A second, longer measurement is taken only when the
    first exceeds the tolerance (noise, not a regression).
    """
    setup, data, ref_s, ref_t = _toy()
    names = ('pixel-kd', 'rdd-tfe', 'rdd-tse')
    models = {n: benchmark.build_variant(n, setup, ref_s, ref_t)
              for n in names}
    optims = {n: benchmark.build_optim(m, 0.01, False, 'cpu')
              for n, m in models.items()}
    # not vacuous: TSE selects something and leaves something out
    benchmark.train_step(models['rdd-tse'], optims['rdd-tse'], data, 'cpu')
    selected = float(models['rdd-tse'].distiller.stats['tse_selected'])
    assert 0.0 < selected < 1.0
    ratios = {}
    for iters in (24, 48):
        _, rounds = benchmark.time_variants(models, optims, data, iters,
                                            warmup=3, clock='cpu')
        ratios = {n: benchmark.paired_ratio(rounds, n, 'pixel-kd')
                  for n in names[1:]}
        print(f'RDD step / pixel KD step over {iters} rounds: {ratios}')
        if all(r <= TOLERANCE for r in ratios.values()):
            return
    pytest.fail(f'RDD step / pixel KD step = {ratios}, above '
                f'{TOLERANCE}: look for a new full sort, loop or sync '
                'in the RDD path (tools/benchmark.py --profile 5)')


def test_benchmark_main_runs_all_kinds_of_variants(tmp_path):
    """The CLI end to end, tiny: each kind of variant steps, JSON written."""
    VARIANTS = ['student', 'mmrazor-kd', 'pixel-kd', 'rdd-tfe',
                'rdd-tse-nocheck']
    out = tmp_path / 'bench.json'
    report = benchmark.main(TOY + [
        '--synthetic', '--batch-size', '2', '--crop', '32', '32',
        '--iters', '2', '--warmup', '1', '--memory', 'none', '--variants',
        *VARIANTS, '--out', str(out)
    ])
    assert out.exists()
    results = report['results']
    assert list(results) == VARIANTS
    assert 0 < results['rdd-tfe']['rdd_stats']['tfe_weight'] <= 1
    assert results['pixel-kd']['ratio_to_baseline'] == 1.0
    assert all(r['time']['median_ms'] > 0 for r in results.values())


def test_memory_is_measured_in_a_fresh_process():
    args = benchmark.parse_args(TOY + [
        '--synthetic', '--batch-size', '2', '--crop', '32', '32',
        '--warmup', '1', '--memory-steps', '1'
    ])
    mem = benchmark.memory_subprocess(args, 'rdd-tse')
    assert mem['peak_mib'] > mem['step_mib'] > 0


def test_variants_share_weights_and_differ_only_in_distillation():
    setup, _, ref_s, ref_t = _toy()
    kd = benchmark.build_variant('pixel-kd', setup, ref_s, ref_t)
    tse = benchmark.build_variant('rdd-tse', setup, ref_s, ref_t)
    razor = benchmark.build_variant('mmrazor-kd', setup, ref_s, ref_t)
    for a, b in ((kd, tse), (kd, razor)):
        for part in ('student', 'teacher'):
            sa, sb = getattr(a, part).state_dict(), getattr(
                b, part).state_dict()
            assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert type(kd.distiller).__name__ == 'ConfigurableDistiller'
    assert type(kd.distiller.distill_losses['loss_kl']).__name__ == \
        'RDDWeightedKLDivergence'
    assert type(razor.distiller.distill_losses['loss_kl']).__name__ == \
        'KLDivergence'
    assert type(razor).__name__ == 'SingleTeacherDistill'
    assert tse.distiller.stage == 'tse'
    assert getattr(kd.student.decode_head, 'sampler', None) is None


def test_plain_distiller_keeps_other_losses_and_maps_to_mmrazor():
    cfg = benchmark.Config.fromfile(RDD_CWD)
    rdd = benchmark._plain(cfg.model.distiller)
    plain = benchmark.plain_distiller(rdd)
    razor = benchmark.plain_distiller(rdd, razor_losses=True)
    assert plain['type'] == 'ConfigurableDistiller'
    assert 'tse' not in plain and 'tfe' not in plain
    assert set(plain['teacher_recorders']) == {'logits'}
    assert {k: v['type'] for k, v in plain['distill_losses'].items()} == {
        'loss_kl': 'RDDWeightedKLDivergence',
        'loss_cwd': 'RDDWeightedChannelWiseDivergence'
    }
    assert {k: v['type'] for k, v in razor['distill_losses'].items()} == {
        'loss_kl': 'KLDivergence',
        'loss_cwd': 'ChannelWiseDivergence'
    }
    assert razor['distill_losses']['loss_cwd']['loss_weight'] == 3.0


# ------------------------------------------------------ mask micro-benchmark
@pytest.mark.parametrize('min_kept', [1, 7, 50, 200, 10**6])
def test_kthvalue_and_full_sort_select_the_same_pixels(min_kept):
    g = torch.Generator().manual_seed(min_kept)
    q = torch.rand(2, 9, 11, generator=g)
    q[0, :3] = 0.9  # ties above the threshold
    q[1, 2:4] = 0.5  # ties below it
    valid = torch.rand(2, 9, 11, generator=g) > 0.2
    for thresh in (0.3, 0.7, 0.95):
        c = benchmark_masks.compare_selection(q, valid, thresh, min_kept)
        assert c['mismatch'] == c['mismatch_topk'] == 0
        assert c['mismatch_kthvalue'] == 0
    a = benchmark_masks.ohem_hard_mask_sort(q, valid, 0.7, min_kept)
    assert not (a & ~valid).any()
    assert int(a.sum()) >= min(min_kept, int(valid.sum()))


def test_full_sort_selection_detects_a_difference():
    """The check is not vacuous: another threshold gives mismatches."""
    q = torch.linspace(0, 1, 100).reshape(1, 10, 10)
    valid = torch.ones_like(q, dtype=torch.bool)
    a = benchmark_masks.ohem_hard_mask_sort(q, valid, 0.5, 10)
    b = benchmark_masks.ohem_hard_mask_sort(q, valid, 0.6, 10)
    assert (a != b).any()


def test_ours_matches_reference_pipeline_and_all_ignored():
    x = benchmark_masks.make_inputs(2, 5, (32, 48), 8, 'cpu', seed=3)
    for min_kept in (10, 500, 10**5):
        c = benchmark_masks.compare_with_reference(x['student'], x['label'],
                                                   0.7, min_kept)
        assert c['mismatch'] == 0 and c['selected'] > 0
    label = torch.full_like(x['label'], 255)
    c = benchmark_masks.compare_with_reference(x['student'], label, 0.7, 10)
    assert c == dict(selected=0, mismatch=0)


def test_mask_benchmark_runs_small():
    results = benchmark_masks.main([
        '--batch-size', '1', '--num-classes', '5', '--label-size', '32',
        '64', '--scales', '1', '2', '--reps', '3', '--min-kept', '100'
    ])
    assert [r['scale'] for r in results] == [1, 2]
    for r in results:
        c = r['checks']
        assert c['student_kth_vs_sort']['mismatch'] == 0
        assert c['teacher_kth_vs_sort']['mismatch'] == 0
        assert c['tse_weight_max_abs_diff'] == 0.0
        assert all(t['median_ms'] > 0 for t in r['times'].values())
