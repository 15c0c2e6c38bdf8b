# Copyright (c) mmrdd contributors. All rights reserved.
"""Af-DCD and KT as registered MMRazor losses, built from the Cityscapes
configs, against the plain oracles of tests/_afdcd_kt.py (the official
code re-stated): values and gradients to 1e-5 relative, the configs'
arguments against the official scripts', the learned modules (trained or
frozen as in the official code) dropped by the student converter."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from _afdcd_kt import afdcd_terms, cwd, kt_feature_loss, kt_logit_loss
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401  (registers the losses)
from mmrdd.runtime.checkpoint import kd_to_student_checkpoint

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CITYSCAPES = '_deeplabv3_r101-d8_{}_4xb4-40k_cityscapes-512x1024.py'


def _losses(name: str) -> dict:
    """``model.distiller.distill_losses`` of a configs/rdd config."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'rdd', name))
    return {
        k: v
        for k, v in cfg.model.distiller.distill_losses.to_dict().items()
        if k != '_delete_'
    }


def _randn(*shape, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


def _labels(n, h, w, num_classes, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (n, h, w), generator=g)
    labels[0][labels[0] == num_classes - 1] = 0
    return labels.masked_fill(torch.rand(n, h, w, generator=g) < 0.1, 255)


# ------------------------------------------------------------ configs ------
def test_configs_carry_the_official_arguments():
    """train_ocmgd.py / train_KT.py with the Cityscapes scripts' flags
    (docs: which flag, which default)."""
    r18 = _losses('afdcd_feat' + CITYSCAPES.format('deeplabv3_r18-d8'))
    assert r18['loss_kl'] == dict(
        type='WeightedKLDivergence', tau=1.0, loss_weight=1.0)
    assert r18['loss_afdcd'] == dict(
        type='AfDCDLoss',
        student_channels=512,
        teacher_channels=2048,
        tau=0.07,
        groups=16,
        patch_size=(4, 4),
        pool_size=4,
        mask='center',
        mask_ratio=0.75,
        projector='enhanced',
        fd_weight=2e-6,
        ctr_weight=0.005)
    mbv2 = _losses('afdcd_feat' + CITYSCAPES.format('deeplabv3_mbv2-d8'))
    assert mbv2['loss_afdcd'] == dict(
        r18['loss_afdcd'],
        student_channels=320,
        mask='random',
        projector='plain')
    assert _losses('rdd+afdcd_feat' +
                   CITYSCAPES.format('deeplabv3_mbv2-d8')) == mbv2
    kt = _losses('kt_feat' + CITYSCAPES.format('deeplabv3_r18-d8'))
    assert kt == dict(
        loss_kd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=1.0),
        loss_kd_aux=dict(
            type='ChannelWiseDivergence', tau=4.0, loss_weight=0.4),
        loss_kt_logits=dict(
            type='KTLogitTailoringLoss',
            tau=4.0,
            ignore_index=255,
            loss_weight=1.0),
        loss_kt_feat=dict(
            type='KTFeatureTailoringLoss',
            student_channels=128,
            teacher_channels=512,
            tuning_iter=10000,
            tau=4.0,
            margin=1.0,
            ft_weight=1.0,
            contrastive_weight=1.0,
            train_modules=False))
    for student in ('deeplabv3_r18-d8', 'pspnet_r18-d8'):
        for prefix in ('kt_feat', 'rdd+kt_feat'):
            assert _losses(prefix + CITYSCAPES.format(student)) == kt
    kt_mbv2 = {k: v for k, v in kt.items() if k != 'loss_kd_aux'}
    kt_mbv2['loss_kt_feat'] = dict(kt['loss_kt_feat'], student_channels=512)
    for prefix in ('kt_feat', 'rdd+kt_feat'):
        assert _losses(prefix +
                       CITYSCAPES.format('deeplabv3_mbv2-d8')) == kt_mbv2
        cfg = Config.fromfile(
            osp.join(ROOT, 'configs', 'rdd',
                     prefix + CITYSCAPES.format('deeplabv3_r18-d8')))
        assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4


# ------------------------------------------------------------- Af-DCD ------
def _plain_projector(sd, prefix='projector.'):

    def run(x):
        x = F.conv2d(x, sd[prefix + '0.weight'], sd[prefix + '0.bias'], 1, 1)
        return F.conv2d(x.relu(), sd[prefix + '2.weight'],
                        sd[prefix + '2.bias'], 1, 1)

    return run


def _enhanced_projector(sd, prefix='projector.'):

    def conv(x, name):
        return F.conv2d(x, sd[f'{prefix}{name}.weight'],
                        sd[f'{prefix}{name}.bias'], 1, 1)

    def run(x):
        x_1 = conv(x, 'block_1.0').relu()
        x_2 = conv(x_1, 'block_2.0').relu()
        return (conv(x_1, 'adaptor_1') + conv(x_2, 'adaptor_2')) / 2.

    return run


def _afdcd_case(cfg, n, size, seed=0):
    """Our loss (float64) and the oracle on one batch: values and
    gradients of fd, ctr and the weighted sum."""
    loss = MODELS.build(cfg).double()
    sd = {k: v.detach() for k, v in loss.state_dict().items()}
    align = (lambda x: F.conv2d(x, sd['align.weight'], sd['align.bias'])) \
        if 'align.weight' in sd else (lambda x: x)
    project = (_enhanced_projector
               if cfg['projector'] == 'enhanced' else _plain_projector)(
                   sd)
    s_ch, t_ch = cfg['student_channels'], cfg['teacher_channels']
    feat_s = _randn(n, s_ch, *size, seed=seed).relu().requires_grad_()
    # the teacher at the scale of the fresh projector's output: far from
    # it, every distance would change alike with the student and the
    # contrast's gradient would vanish (checked below)
    feat_t = _randn(n, t_ch, *size, seed=seed + 1).relu() * 0.05
    torch.manual_seed(seed + 2)
    fd, ctr = loss.terms(feat_s, feat_t)
    torch.manual_seed(seed + 2)
    total = loss(feat_s, feat_t)
    torch.manual_seed(seed + 2)
    keep = (torch.rand(n, 1, *size) <= 1 - cfg['mask_ratio']).double()
    if cfg['mask'] == 'center':
        keep = torch.ones(n, 1, *size, dtype=torch.float64)
        h, w = size
        keep[..., h // 3:2 * h // 3, w // 3:2 * w // 3] = 0
    ref_s = feat_s.detach().clone().requires_grad_()
    ref_fd, ref_ctr = afdcd_terms(ref_s, feat_t, align, project, keep,
                                  cfg['tau'], cfg['groups'], cfg['patch_size'],
                                  cfg['pool_size'])
    ref_total = cfg['fd_weight'] * ref_fd + cfg['ctr_weight'] * ref_ctr
    for ours, ref in ((fd, ref_fd), (ctr, ref_ctr), (total, ref_total)):
        assert ours.item() == pytest.approx(ref.item(), rel=1e-10)
        g, = torch.autograd.grad(ours, feat_s, retain_graph=True)
        g_ref, = torch.autograd.grad(ref, ref_s, retain_graph=True)
        assert g_ref.abs().max() > 1e-6
        assert _rel(g, g_ref) < 1e-10
    return loss, total


@pytest.mark.parametrize('mask,projector', [('center', 'enhanced'),
                                            ('random', 'plain'),
                                            ('random', 'enhanced')])
def test_afdcd_loss_equals_the_oracle(mask, projector):
    """The configs' arguments at a quarter of the channels (128 -> 512,
    groups of 32); the full widths are the slow test below."""
    cfg = dict(
        _losses('afdcd_feat' +
                CITYSCAPES.format('deeplabv3_r18-d8'))['loss_afdcd'],
        student_channels=128,
        teacher_channels=512,
        mask=mask,
        projector=projector)
    loss, total = _afdcd_case(cfg, 2, (16, 16))
    # alignment and projector are learned with the student
    params = dict(loss.named_parameters())
    assert params and all(p.requires_grad for p in params.values())
    grads = torch.autograd.grad(total, list(params.values()))
    assert all(g.abs().sum() > 0 for g in grads)


@pytest.mark.slow
@pytest.mark.parametrize('student', ['deeplabv3_r18-d8', 'deeplabv3_mbv2-d8'])
def test_afdcd_config_loss_equals_the_oracle_at_full_width(student):
    """The Cityscapes configs' losses as they are (R18: 512 -> 2048,
    central mask, enhanced projector; MobileNetV2: 320 -> 2048, random
    mask, plain projector), one 16x16 feature map."""
    cfg = _losses('afdcd_feat' + CITYSCAPES.format(student))['loss_afdcd']
    _afdcd_case(cfg, 1, (16, 16), seed=3)


def test_afdcd_masks_and_teacher():
    cfg = dict(type='AfDCDLoss', student_channels=8, teacher_channels=32)
    s = _randn(2, 8, 8, 8, seed=4).float().requires_grad_()
    t = _randn(2, 32, 8, 8, seed=5).float().requires_grad_()
    loss = MODELS.build(dict(cfg, pool_size=0, patch_size=(2, 2)))
    torch.manual_seed(0)
    a = loss(s, t)
    torch.manual_seed(0)
    assert loss(s, t).item() == a.item()  # the same draw
    assert loss(s, t).item() != a.item()  # a new draw
    a.backward()
    assert t.grad is None and s.grad.abs().sum() > 0
    center = MODELS.build(
        dict(cfg, pool_size=0, patch_size=(2, 2), mask='center'))
    assert center(s, t).item() == center(s, t).item()
    same = MODELS.build(dict(cfg, student_channels=32, pool_size=0))
    assert isinstance(same.align, torch.nn.Identity)


def test_afdcd_bad_arguments_and_inputs_name_the_fix():
    cfg = dict(type='AfDCDLoss', student_channels=8, teacher_channels=32)
    with pytest.raises(ValueError, match='mask must be one of'):
        MODELS.build(dict(cfg, mask='block'))
    with pytest.raises(ValueError, match='projector must be one of'):
        MODELS.build(dict(cfg, projector='deep'))
    with pytest.raises(ValueError, match='groups=5 must divide'):
        MODELS.build(dict(cfg, groups=5))
    with pytest.raises(ValueError, match=r'mask_ratio must be in \[0, 1\)'):
        MODELS.build(dict(cfg, mask_ratio=1.0))
    loss = MODELS.build(cfg)
    with pytest.raises(ValueError, match='student_channels=8'):
        loss(torch.zeros(1, 16, 16, 16), torch.zeros(1, 32, 16, 16))
    with pytest.raises(ValueError, match='pool_size'):
        loss(torch.zeros(1, 8, 12, 12), torch.zeros(1, 32, 12, 12))


# ----------------------------------------------------------------- KT ------
def _kt_oracle_modules(loss):
    sd = {k: v.detach() for k, v in loss.state_dict().items()}

    def tail(prefix):

        def run(x):
            for i in (0, 2):
                x = F.conv2d(x, sd[f'{prefix}.{i}.weight'],
                             sd[f'{prefix}.{i}.bias']).relu()
            return F.conv2d(x, sd[f'{prefix}.4.weight'],
                            sd[f'{prefix}.4.bias'])

        return run

    return (tail('student_tail'), tail('teacher_tail'),
            lambda x: F.conv2d(x, sd['student_conv.weight']))


@pytest.mark.parametrize('student', ['deeplabv3_r18-d8', 'deeplabv3_mbv2-d8'])
@pytest.mark.parametrize('stage', ['student', 'teacher'])
def test_kt_feature_loss_equals_the_oracle(student, stage):
    """The configs' losses (R18: 128 vs 512 channels; MobileNetV2: 512 vs
    512), before and after the tuning point, iteration from the
    MessageHub; weights other than 1 are applied to their terms."""
    cfg = _losses('kt_feat' + CITYSCAPES.format(student))['loss_kt_feat']
    loss = MODELS.build(dict(cfg, ft_weight=0.7,
                             contrastive_weight=3.0)).double()
    it = cfg['tuning_iter'] - 1 if stage == 'student' else cfg['tuning_iter']
    MessageHub.get_current_instance().update_info('iter', it)
    s_ch, t_ch = cfg['student_channels'], cfg['teacher_channels']
    feat_s = _randn(2, s_ch, 8, 16, seed=6).relu().requires_grad_()
    feat_t = _randn(2, t_ch, 8, 16, seed=7).relu()
    ours = loss(feat_s, feat_t)
    ft, tri = loss.terms(feat_s, feat_t)
    ref_s = feat_s.detach().clone().requires_grad_()
    ref_ft, ref_tri = kt_feature_loss(ref_s, feat_t, *_kt_oracle_modules(loss),
                                      stage, cfg['tau'], cfg['margin'])
    ref = 0.7 * ref_ft + 3.0 * ref_tri
    assert ours.dtype == torch.float64
    assert ours.item() == pytest.approx(ref.item(), rel=1e-10)
    assert ft.item() == pytest.approx(ref_ft.item(), rel=1e-10)
    assert tri.item() == pytest.approx(ref_tri.item(), rel=1e-10)
    for a, b in ((ours, ref), (ft, ref_ft), (tri, ref_tri)):
        g, = torch.autograd.grad(a, feat_s, retain_graph=True)
        g_ref, = torch.autograd.grad(b, ref_s, retain_graph=True)
        assert g_ref.abs().max() > 0
        assert _rel(g, g_ref) < 1e-10
    assert loss(feat_s, feat_t, iteration=it).item() == ours.item()


def test_kt_feature_loss_switches_at_tuning_iter_and_needs_the_iteration():
    loss = MODELS.build(
        dict(
            type='KTFeatureTailoringLoss',
            student_channels=4,
            teacher_channels=8,
            tuning_iter=3))
    s, t = _randn(
        2, 4, 3, 5, seed=8).float(), _randn(
            2, 8, 3, 5, seed=9).float()
    values = [loss(s, t, iteration=i).item() for i in range(5)]
    assert values[0] == values[1] == values[2] != values[3] == values[4]
    MessageHub.get_instance('afdcd-kt-test-no-iter')  # the current one now
    try:
        with pytest.raises(RuntimeError, match='MessageHub'):
            loss(s, t)
    finally:
        MessageHub._instance_dict.pop('afdcd-kt-test-no-iter')
    with pytest.raises(ValueError, match='tuning_iter must be an int'):
        MODELS.build(
            dict(
                type='KTFeatureTailoringLoss',
                student_channels=4,
                teacher_channels=8,
                tuning_iter=-1))


def test_kt_modules_frozen_as_official_or_trained_on_request():
    """The official optimizer holds the student only: the tailoring MLPs
    and the 1x1 convolution keep their initialisation; train_modules=True
    trains them. The student's gradient flows through them either way;
    the teacher gets none."""
    cfg = dict(
        type='KTFeatureTailoringLoss', student_channels=4, teacher_channels=8)
    s = _randn(2, 4, 3, 5, seed=10).float().requires_grad_()
    t = _randn(2, 8, 3, 5, seed=11).float().requires_grad_()
    frozen = MODELS.build(cfg)
    assert not any(p.requires_grad for p in frozen.parameters())
    for it in (0, 10000):
        frozen(s, t, iteration=it).backward()
        assert s.grad.abs().sum() > 0 and t.grad is None
        s.grad = None
    trained = MODELS.build(dict(cfg, train_modules=True))
    params = list(trained.parameters())
    assert len(params) == 13 and all(p.requires_grad for p in params)
    trained(s, t, iteration=0).backward()
    assert all(p.grad is not None for p in trained.student_tail.parameters())
    assert trained.student_conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_kt_logit_loss_equals_the_oracle(dtype):
    """19 classes, ignore 255, logits at 1/8 of the labels, the config's
    weight (2 here, to see it applied) and temperature 4."""
    cfg = _losses('kt_feat' +
                  CITYSCAPES.format('deeplabv3_r18-d8'))['loss_kt_logits']
    loss = MODELS.build(dict(cfg, loss_weight=2.0))
    s = _randn(2, 19, 8, 16, seed=12, scale=3).to(dtype).requires_grad_()
    t = _randn(2, 19, 8, 16, seed=13, scale=3).to(dtype)
    labels = _labels(2, 64, 128, 19, seed=14)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    ours = loss(s, t, labels[:, None])  # (N, 1, H, W) as MMSeg stacks them
    ref = 2.0 * kt_logit_loss(s, t, labels, 4.0, 255)
    assert ours.item() == pytest.approx(ref.item(), rel=tol)
    g, = torch.autograd.grad(ours, s)
    g_ref, = torch.autograd.grad(ref, s)
    assert _rel(g.double(), g_ref) < tol


def test_kt_logit_loss_bad_labels_name_the_fix():
    loss = MODELS.build(dict(type='KTLogitTailoringLoss'))
    s = torch.zeros(1, 3, 2, 2)
    with pytest.raises(ValueError, match='ignore_index=255'):
        loss(s, s, torch.full((1, 8, 8), 3))
    with pytest.raises(ValueError, match='gt_labels must be'):
        loss(s, s, torch.zeros(8, 8, dtype=torch.long))
    assert MODELS.build(dict(type='KTLogitTailoringLoss', ignore_index=-1))(
        s, s, torch.full((1, 8, 8), -1)).item() == pytest.approx(
            cwd(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), 4.0).item())


# ------------------------------------------------------------ converter ----
@pytest.mark.parametrize(
    'config',
    [
        'rdd+afdcd_feat_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
        'rdd+kt_feat_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
    ])
def test_student_checkpoint_holds_none_of_the_learned_modules(config):
    from mmseg.registry import MODELS as SEG_MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'rdd', config))
    with DefaultScope.overwrite_default_scope('mmseg'):
        algo = MODELS.build(dict(cfg.model, teacher_ckpt=None))
        student = SEG_MODELS.build(cfg.model.architecture)
    state = algo.state_dict()
    learned = [k for k in state if k.startswith('distiller.distill_losses.')]
    assert learned  # alignment/projector, or tailoring MLPs and conv
    converted = kd_to_student_checkpoint(dict(state_dict=state))
    assert set(converted['state_dict']) == set(student.state_dict())
    student.load_state_dict(converted['state_dict'], strict=True)
