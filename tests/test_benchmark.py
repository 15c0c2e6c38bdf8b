# Copyright (c) mmrdd contributors. All rights reserved.
"""The benchmark tools' own checks: they run, pair and report.

No test here asserts how fast this machine is: a time claim fails on a
loaded machine. The claims (RDD's step within 15% of pixel KD; what each KD
method costs) live in the benchmark's JSON and docs
(``docs/results/kd_costs_toy_cpu.json``, ``docs/kd_family.md``).
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmrdd_lab import benchmark, benchmark_masks
from mmrdd_lab.benchmark import StepBenchmarkSettings

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY = [
    osp.join(ROOT, 'configs', 'toy',
             'deeplabv3_toy-r18-d8_1xb8-2k_toyseg-96x96.py'),
    osp.join(ROOT, 'configs', 'toy',
             'deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py')
]
DISTILLER = osp.join(ROOT, 'configs', '_base_', 'distill', 'rdd_logits.py')
TOY_NAME = 'deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'
TOY_RDD = osp.join(ROOT, 'configs', 'rdd', 'rdd_logits_' + TOY_NAME)
TOY_RDD_CWD = osp.join(ROOT, 'configs', 'rdd', 'rdd+cwd_logits_' + TOY_NAME)
CITYSCAPES_RDD = osp.join(
    ROOT, 'configs', 'rdd', 'rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_'
    '4xb4-40k_cityscapes-512x1024.py')
RDD_CWD = osp.join(
    ROOT, 'configs', 'rdd',
    'rdd+cwd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_'
    'cityscapes-512x1024.py')


def _settings(**kwargs):
    kwargs.setdefault('configs', TOY)
    return StepBenchmarkSettings(
        distiller_config=DISTILLER, synthetic=True, **kwargs)


@pytest.fixture
def one_thread():
    """One intra-op thread: far steadier timings on a shared 2-core VM."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _toy():
    settings = _settings(batch_size=4, crop=(128, 128), min_kept='auto')
    setup = benchmark.load_setup(settings)
    data, ref_s, ref_t = benchmark.prepare(settings, setup)
    return setup, data, ref_s, ref_t


def test_rdd_step_overhead_is_measured_paired_not_asserted(one_thread):
    """RDD (TFE and TSE) against pixel KD and the student alone: the paired
    ratios are measured and reported (per round, the variants alternating);
    how large they are is the benchmark's claim, not this test's."""
    setup, data, ref_s, ref_t = _toy()
    names = ('student', 'pixel-kd', 'rdd-tfe', 'rdd-tse')
    models = {
        n: benchmark.build_variant(n, setup, ref_s, ref_t)
        for n in names
    }
    optims = {
        n: benchmark.build_optim(m, 0.01, False, 'cpu')
        for n, m in models.items()
    }
    # not vacuous: TSE selects something and leaves something out
    _, log_vars = benchmark.train_step(models['rdd-tse'], optims['rdd-tse'],
                                       data, 'cpu')
    selected = benchmark.rdd_stats(log_vars)['tse_selected']
    assert 0.0 < selected < 1.0
    times, rounds = benchmark.time_variants(
        models, optims, data, 3, warmup=1, clock='cpu')
    assert all(len(times[n]) == 3 and len(rounds[n]) == 3 for n in names)
    for name in names:
        for ref in ('pixel-kd', 'student'):
            ratio = benchmark.paired_ratio(rounds, name, ref)
            assert ratio > 0 and np.isfinite(ratio)
        assert benchmark.paired_ratio(rounds, name, name) == 1.0
    assert benchmark.paired_ratio(rounds, 'rdd-tse', 'absent') is None


def test_benchmark_runs_all_kinds_of_variants(tmp_path):
    """End to end, tiny: each kind of variant steps, JSON written; an
    extra variant from a config (RDD + CWD) runs beside them."""
    variants = [
        'student', 'mmrazor-kd', 'pixel-kd', 'rdd-tfe', 'rdd-tse-nocheck'
    ]
    out = tmp_path / 'bench.json'
    report = benchmark.run_step_benchmark(
        StepBenchmarkSettings(
            configs=[TOY_RDD],
            synthetic=True,
            batch_size=2,
            crop=(32, 32),
            iters=2,
            warmup=1,
            memory='none',
            variants=variants,
            extra_variants={'rdd+cwd': TOY_RDD_CWD},
            profile=1,
            out=str(out)))
    assert out.exists()
    results = report['results']
    assert list(results) == variants + ['rdd+cwd']
    assert 0 < results['rdd-tfe']['rdd_stats']['tfe_weight'] <= 1
    assert results['rdd-tfe']['rdd_stats']['stage'] == 0.0
    assert results['rdd+cwd']['rdd_stats']['stage'] == 1.0
    assert 'tse_selected' in results['rdd+cwd']['rdd_stats']
    assert results['student']['rdd_stats'] == {}
    assert results['pixel-kd']['ratio_to_baseline'] == 1.0
    assert all(r['time']['median_ms'] > 0 for r in results.values())
    parts = report['profile']['rdd-tfe']['parts_ms']
    assert parts['bench::step'] > parts['bench::teacher'] > 0
    assert parts['bench::distill_losses'] > 0
    tse_parts = report['profile']['rdd+cwd']['parts_ms']
    assert tse_parts['bench::rdd_tse_weight'] > 0


@pytest.mark.slow  # a fresh interpreter
def test_memory_is_measured_in_a_fresh_process():
    settings = _settings(batch_size=2, crop=(32, 32), warmup=1, memory_steps=1)
    mem = benchmark.memory_subprocess(settings, 'rdd-tse')
    assert mem['peak_mib'] > mem['step_mib'] > 0
    assert mem['kind'] in (benchmark.VMHWM_KIND, benchmark.MAXRSS_KIND)
    settings = StepBenchmarkSettings(
        configs=[TOY_RDD],
        synthetic=True,
        batch_size=2,
        crop=(32, 32),
        warmup=1,
        memory_steps=1,
        variants=[],
        kd_methods=['skd'])
    mem = benchmark.memory_subprocess(settings, 'rdd+skd')
    assert mem['peak_mib'] > mem['step_mib'] > 0


def test_cpu_amp_uses_the_training_wrapper():
    """--amp on CPU times the wrapper that tools/train.py --amp uses."""
    from mmrdd.runtime import CPUAmpOptimWrapper
    model = torch.nn.Linear(2, 2)
    optim = benchmark.build_optim(model, 0.01, True, 'cpu')
    assert type(optim) is CPUAmpOptimWrapper
    assert type(benchmark.build_optim(model, 0.01, False, 'cpu')).__name__ \
        == 'OptimWrapper'


def test_settings_name_the_fix():
    with pytest.raises(ValueError, match='--variant NAME=CONFIG'):
        _settings(variants=['rdd-cirkd'])
    with pytest.raises(ValueError, match='built in'):
        _settings(extra_variants={'rdd-tse': TOY_RDD})
    assert benchmark.parse_variant('a=b.py') == ('a', 'b.py')
    with pytest.raises(Exception, match='NAME=CONFIG'):
        benchmark.parse_variant('b.py')


def test_variants_share_weights_and_differ_only_in_distillation():
    setup, _, ref_s, ref_t = _toy()
    kd = benchmark.build_variant('pixel-kd', setup, ref_s, ref_t)
    tse = benchmark.build_variant('rdd-tse', setup, ref_s, ref_t)
    razor = benchmark.build_variant('mmrazor-kd', setup, ref_s, ref_t)
    for a, b in ((kd, tse), (kd, razor)):
        for part in ('student', 'teacher'):
            sa, sb = getattr(a, part).state_dict(), getattr(b,
                                                            part).state_dict()
            assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert type(kd.distiller).__name__ == 'ConfigurableDistiller'
    assert type(kd.distiller.distill_losses['loss_kl']).__name__ == \
        'WeightedKLDivergence'
    assert type(razor.distiller.distill_losses['loss_kl']).__name__ == \
        'KLDivergence'
    assert type(razor).__name__ == 'SingleTeacherDistill'
    assert tse.distiller.stage == 'tse'
    assert getattr(kd.student.decode_head, 'sampler', None) is None


def test_plain_distiller_keeps_other_losses_and_maps_to_mmrazor():
    rdd = Config.fromfile(RDD_CWD).model.distiller.to_dict()
    plain = benchmark.plain_distiller(rdd)
    razor = benchmark.plain_distiller(rdd, razor_losses=True)
    assert plain['type'] == 'ConfigurableDistiller'
    assert 'tse' not in plain and 'tfe' not in plain
    assert set(plain['teacher_recorders']) == {'logits'}
    assert {k: v['type']
            for k, v in plain['distill_losses'].items()} == {
                'loss_kl': 'WeightedKLDivergence',
                'loss_cwd': 'WeightedChannelWiseDivergence'
            }
    assert {k: v['type']
            for k, v in razor['distill_losses'].items()} == {
                'loss_kl': 'KLDivergence',
                'loss_cwd': 'ChannelWiseDivergence'
            }
    assert razor['distill_losses']['loss_cwd']['loss_weight'] == 3.0


# ------------------------------------------------------- KD method costs
def test_every_kd_method_of_the_cost_table_has_its_configs():
    """One line of KD_METHODS adds a method: its RDD + config exists for
    the toy pair (the cost run here) and the Cityscapes pair."""
    assert set(benchmark.KD_METHODS) >= {
        'at', 'cwd', 'fitnet', 'skd', 'ifvd', 'dsd', 'cirkd', 'dist'
    }
    for method, stem in benchmark.KD_METHODS.items():
        for first in (TOY_RDD, CITYSCAPES_RDD):
            path = benchmark.kd_method_config(method, [first])
            assert osp.basename(path).startswith(f'rdd+{stem}_')
            assert osp.basename(path).split('_', 2)[2] == \
                osp.basename(first).split('_', 2)[2]
    with pytest.raises(ValueError, match='one distillation config'):
        benchmark.kd_method_config('at', TOY)
    with pytest.raises(ValueError, match='KD_METHODS'):
        _settings(kd_methods=['nope'])


def test_kd_method_runs_alone_and_with_rdd():
    """``M`` is the method's losses without RDD (a plain
    ConfigurableDistiller, the one-stage configs' distiller), ``rdd+M``
    its RDD + config; a missing stage-1 artefact gets a stand-in."""
    settings = StepBenchmarkSettings(
        configs=[TOY_RDD],
        synthetic=True,
        variants=['pixel-kd'],
        kd_methods=['at', 'maskd'])
    assert settings.all_variants == [
        'pixel-kd', 'at', 'rdd+at', 'maskd', 'rdd+maskd'
    ]
    setup = benchmark.load_setup(settings)
    alone = benchmark.variant_cfg('at', setup)['distiller']
    assert alone['type'] == 'ConfigurableDistiller'
    assert set(alone['distill_losses']) == {'loss_kl', 'loss_at'}
    assert 'tse' not in alone and 'switch_iter' not in alone
    both = benchmark.variant_cfg('rdd+at', setup)['distiller']
    assert both['type'] == 'RDDDistiller'
    assert both['distill_losses'] == alone['distill_losses']
    # MasKD's tokens come from its stage 1, not run here
    assert len(setup['stand_ins']) == 2 and 'random tokens' in \
        setup['stand_ins'][0]
    tokens = setup['extra']['maskd']['distiller']['distill_losses'][
        'loss_maskd']['tokens']
    assert osp.isfile(tokens)


def test_checkpoint_sizes_split_teacher_distiller_and_student():
    setup, _, ref_s, ref_t = _toy()
    sizes = {}
    for name in ('student', 'pixel-kd'):
        model = benchmark.build_variant(name, setup, ref_s, ref_t)
        sizes[name] = benchmark.checkpoint_sizes(name, model)
    student, kd = sizes['student'], sizes['pixel-kd']
    assert student['teacher_mib'] == pytest.approx(0, abs=1e-3)
    assert student['student_converted_mib'] == pytest.approx(
        student['state_dict_mib'], rel=1e-2)
    # the converter leaves the student's weights, as the student alone
    assert kd['student_converted_mib'] == pytest.approx(
        student['student_converted_mib'], rel=1e-2)
    assert kd['teacher_mib'] > kd['student_converted_mib'] > 0
    assert kd['state_dict_mib'] == pytest.approx(
        kd['teacher_mib'] + kd['without_teacher_mib'], rel=1e-2)
    weights = sum(v.numel() * v.element_size() for v in ref_t.values()) / 2**20
    assert kd['teacher_mib'] == pytest.approx(weights, rel=2e-2)


def test_cirkd_memories_weigh_in_the_checkpoint_sizes_only_run(tmp_path):
    """The sizes-only run (no weights, data or steps); the CIRKD memories
    are the distiller's part of the checkpoint, unless not persistent."""
    out = tmp_path / 'sizes.json'
    report = benchmark.run_step_benchmark(
        StepBenchmarkSettings(
            configs=[TOY_RDD],
            variants=['pixel-kd'],
            kd_methods=['cirkd'],
            sizes_only=True,
            out=str(out)))
    assert out.exists()
    results = report['results']
    assert list(results) == ['pixel-kd', 'cirkd', 'rdd+cirkd']
    assert set(results['cirkd']) == {'checkpoint'}
    cfg = Config.fromfile(benchmark.kd_method_config('cirkd', [TOY_RDD]))
    losses = cfg.model.distiller.distill_losses
    memory_mib = sum(
        losses[n].num_classes * losses[n].memory_size *
        losses[n].feat_channels * 4
        for n in ('loss_cirkd_pixel', 'loss_cirkd_region')) / 2**20
    for name in ('cirkd', 'rdd+cirkd'):
        ckpt = results[name]['checkpoint']
        assert ckpt['distiller_mib'] > memory_mib
        assert ckpt['state_dict_mib'] > (
            results['pixel-kd']['checkpoint']['state_dict_mib'] + memory_mib)
    small = benchmark.run_step_benchmark(
        StepBenchmarkSettings(
            configs=[benchmark.kd_method_config('cirkd', [TOY_RDD])],
            variants=['rdd-tse'],
            sizes_only=True,
            cfg_options={
                f'model.distiller.distill_losses.{n}.persistent_memory': False
                for n in ('loss_cirkd_pixel', 'loss_cirkd_region')
            }))['results']['rdd-tse']['checkpoint']
    assert small['distiller_mib'] < 0.1 * memory_mib
    assert small['state_dict_mib'] == pytest.approx(
        results['rdd+cirkd']['checkpoint']['state_dict_mib'] - memory_mib,
        rel=2e-2)


def test_cost_run_reports_ratios_to_student_and_pixel_kd(tmp_path):
    """End to end, tiny: student, pixel KD and one method alone and with
    RDD, paired in one run; ratios to both references, checkpoint sizes."""
    report = benchmark.run_step_benchmark(
        StepBenchmarkSettings(
            configs=[TOY_RDD],
            synthetic=True,
            batch_size=2,
            crop=(32, 32),
            iters=2,
            warmup=1,
            memory='none',
            variants=['student', 'pixel-kd'],
            kd_methods=['dist', 'kt'],
            out=str(tmp_path / 'costs.json')))
    results = report['results']
    assert list(results) == [
        'student', 'pixel-kd', 'dist', 'rdd+dist', 'kt', 'rdd+kt'
    ]
    assert results['student']['paired_ratio_to_student'] == 1.0
    assert results['pixel-kd']['paired_ratio_to_baseline'] == 1.0
    for r in results.values():
        assert r['ratio_to_student'] > 0 and r['paired_ratio_to_student'] > 0
        assert r['checkpoint']['student_converted_mib'] > 0
    assert results['rdd+dist']['rdd_stats']['stage'] == 1.0
    assert results['dist']['rdd_stats'] == {}
    assert 'ckpt MiB' in benchmark.format_table(results)
    # the docs' table: one row per variant, in order, with its numbers
    table = benchmark.format_markdown(report).split('\n')
    assert [row.split(' | ')[0][2:] for row in table[2:]] == list(results)
    kt = results['rdd+kt']
    assert table[-1] == (
        f"| rdd+kt | {kt['time']['median_ms']:.1f} | "
        f"{kt['ratio_to_student']:.3f} ({kt['paired_ratio_to_student']:.3f})"
        f" | {kt['ratio_to_baseline']:.3f} "
        f"({kt['paired_ratio_to_baseline']:.3f}) | - | - | "
        f"{kt['checkpoint']['without_teacher_mib']:.1f} | "
        f"{kt['checkpoint']['distiller_mib']:.1f} |")


# ------------------------------------------------------ mask micro-benchmark
@pytest.mark.parametrize('min_kept', [1, 7, 50, 200, 10**6])
def test_kth_value_forms_and_full_sort_select_the_same_pixels(min_kept):
    g = torch.Generator().manual_seed(min_kept)
    q = torch.rand(2, 9, 11, generator=g)
    q[0, :3] = 0.9  # ties above the threshold
    q[1, 2:4] = 0.5  # ties below it
    valid = torch.rand(2, 9, 11, generator=g) > 0.2
    for thresh in (0.3, 0.7, 0.95):
        c = benchmark_masks.compare_selection(q, valid, thresh, min_kept)
        assert c['mismatch'] == 0 and c['kth_equal']
    a = benchmark_masks.reference_ohem_mask(q, valid, 0.7, min_kept)
    assert not (a & ~valid).any()
    assert int(a.sum()) >= min(min_kept, int(valid.sum()))


def test_full_sort_selection_detects_a_difference():
    """The check is not vacuous: another threshold gives mismatches."""
    q = torch.linspace(0, 1, 100).reshape(1, 10, 10)
    valid = torch.ones_like(q, dtype=torch.bool)
    a = benchmark_masks.reference_ohem_mask(q, valid, 0.5, 10)
    b = benchmark_masks.reference_ohem_mask(q, valid, 0.6, 10)
    assert (a != b).any()
    c = benchmark_masks.compare_selection(q, valid, 0.5, 10)
    assert c['mismatch'] == 0 and c['selected'] == int(a.sum())


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
    results = benchmark_masks.run_mask_benchmark(
        benchmark_masks.MaskBenchmarkSettings(
            batch_size=1,
            num_classes=5,
            label_size=(32, 64),
            scales=[1, 2],
            reps=3,
            min_kept=100))
    assert [r['scale'] for r in results] == [1, 2]
    for r in results:
        c = r['checks']
        assert c['student_ours_vs_sort']['mismatch'] == 0
        assert c['teacher_ours_vs_sort']['mismatch'] == 0
        assert c['student_ours_vs_sort']['kth_equal']
        assert c['tse_weight_max_abs_diff'] == 0.0
        assert 0 < c['student_hard_fraction'] < 1
        assert 'RDDDistiller TFE, 2 heads' in r['times']
        assert all(t['median_ms'] > 0 for t in r['times'].values())
