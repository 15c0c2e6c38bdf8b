"""RDD on heterogeneous teacher/student pairs, end to end through
tools/train.py on the toy data: a transformer teacher without auxiliary
head (flip-TFE) and a CNN student with logits of another size, a cascade
teacher, a student with only a decode head; each across the TFE -> TSE
switch."""
import math
import os.path as osp
import textwrap

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from conftest import ROOT, data_options, losses_in_log, run_tool

SEGFORMER_CNN = 'configs/rdd/rdd_logits_segformer_toy-mit_deeplabv3_toy-r18_1xb8-1k_toyseg-96x96.py'  # noqa: E501
CASCADE_CNN = 'configs/rdd/rdd_logits_ocrnet_toy-r18_deeplabv3_toy-r18_1xb8-1k_toyseg-96x96.py'  # noqa: E501
SEGFORMER_SEGFORMER = 'configs/rdd/rdd_logits_segformer_toy-mit_segformer_toy-mit-s_1xb8-1k_toyseg-96x96.py'  # noqa: E501
ITERS, SWITCH = 4, 2

# The untrained toy teacher with a confident classifier (std 1 instead of
# MMSeg's 0.01): its near-uniform default predictions would make every map
# trivial (TFE weight ~1, every teacher pixel hard in TSE).
CONFIDENT_TEACHER = textwrap.dedent('''
    _base_ = ['{root}/{config}']
    heads = _base_.model.teacher.decode_head
    for head in (heads if isinstance(heads, list) else [heads]):
        head.init_cfg = dict(type='Normal', std=1.0,
                             override=dict(name='conv_seg'))
    model = dict(teacher=dict(decode_head=heads))
''')


def finite(values):
    return bool(values) and all(math.isfinite(v) for v in values)


def train(config, toy_data, tmp_path):
    cfg = tmp_path / 'pair.py'
    cfg.write_text(CONFIDENT_TEACHER.format(root=ROOT, config=config))
    return run_tool(
        'tools/train.py', str(cfg), '--work-dir', str(tmp_path / 'work'),
        '--cfg-options', *data_options(toy_data, iters=ITERS),
        f'model.distiller.switch_iter={SWITCH}',
        'model.distiller.tse.min_kept=500',
        env=dict(OMP_NUM_THREADS='1'))


def check_through_the_switch(log, flip):
    """Both stages ran, in order, with finite losses and sane stats."""
    assert 'RDD stage TFE from iteration 0' in log
    assert f'RDD stage TSE from iteration {SWITCH}' in log
    assert losses_in_log(log, 'rdd/stage') == \
        [0.0] * SWITCH + [1.0] * (ITERS - SWITCH)
    assert finite(losses_in_log(log, 'student.decode.loss_ce'))
    assert finite(losses_in_log(log, 'distill.loss_kl'))
    tfe = losses_in_log(log, 'rdd/tfe_weight')
    assert len(tfe) == SWITCH
    # the flipped view of an untrained transformer differs: w < 1
    assert all(0 < v < 1 for v in tfe) if flip else \
        all(0 < v <= 1 for v in tfe), tfe
    selected = losses_in_log(log, 'rdd/tse_selected')
    assert len(selected) == ITERS - SWITCH
    assert all(0 <= v <= 1 for v in selected)
    assert 'no teacher_ckpt, the teacher keeps its initialisation' in log


def logit_sizes(config):
    """Spatial sizes of the teacher's and the student's KD logits."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    with DefaultScope.overwrite_default_scope('mmseg'):
        from mmrazor.registry import MODELS
        model = MODELS.build(cfg.model)
    distiller = model.distiller
    distiller.set_stage('tse')
    x = torch.rand(2, 3, 96, 96)
    with torch.no_grad(), distiller.teacher_recorders, \
            distiller.student_recorders:
        model.teacher_forward(x)
        model.student._forward(x)
    return (tuple(distiller.get_record('logits', False).shape[-2:]),
            tuple(distiller.get_record('logits', True).shape[-2:]))


def test_transformer_teacher_without_aux_to_cnn(toy_data, tmp_path):
    """Flip-TFE, logits at 1/4 (teacher) vs 1/8 (student), both student
    heads weighted, the auxiliary one against the teacher's only head."""
    assert logit_sizes(SEGFORMER_CNN) == ((24, 24), (12, 12))
    log = train(SEGFORMER_CNN, toy_data, tmp_path)
    check_through_the_switch(log, flip=True)
    assert ('RDD: teacher main head decode_head, no auxiliary view; TSE '
            'pairs (student: teacher) decode_head: decode_head, '
            'auxiliary_head: decode_head') in log
    assert finite(losses_in_log(log, 'student.aux.loss_ce'))


def test_cascade_teacher_to_cnn(toy_data, tmp_path):
    """OCRNet-like [FCNHead, OCRHead]: the OCR stage is the main head and
    the KD target, the FCN stage TFE's second view and the auxiliary
    head's TSE partner."""
    assert logit_sizes(CASCADE_CNN) == ((12, 12), (12, 12))
    log = train(CASCADE_CNN, toy_data, tmp_path)
    check_through_the_switch(log, flip=False)
    assert ('RDD: teacher main head decode_head.1, auxiliary view '
            'decode_head.0; TSE pairs (student: teacher) decode_head: '
            'decode_head.1, auxiliary_head: decode_head.0') in log
    assert finite(losses_in_log(log, 'student.aux.loss_ce'))


def test_student_with_only_a_decode_head(toy_data, tmp_path):
    """SegFormer-like teacher and student, neither with an auxiliary
    head: flip-TFE, and only the student's decode head is weighted."""
    assert logit_sizes(SEGFORMER_SEGFORMER) == ((24, 24), (24, 24))
    log = train(SEGFORMER_SEGFORMER, toy_data, tmp_path)
    check_through_the_switch(log, flip=True)
    assert ('TSE pairs (student: teacher) decode_head: decode_head\n'
            in log)
    assert 'student.aux.' not in log


@pytest.mark.parametrize('config', [SEGFORMER_CNN, SEGFORMER_SEGFORMER])
def test_flip_tfe_is_what_the_toy_segformer_configs_use(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.model.distiller.tfe.second_view == 'flip'
    assert 'auxiliary_head' not in cfg.model.teacher
