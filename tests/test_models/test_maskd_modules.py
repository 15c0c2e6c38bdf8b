# Copyright (c) mmrdd contributors. All rights reserved.
"""MasKD as registered pieces: the distillation loss built from its config
(against the official computation of ``tests/_oracles.py``), the token
files it reads, the stage-1 token trainer (its loss, its tokens-only
checkpoint, its frozen teacher), the configs of both stages, and a toy
distillation step whose converted student holds no token."""
import os.path as osp

import pytest
import torch
from _oracles import (reference_maskd_loss, reference_maskd_masks,
                      reference_token_stage_loss)
from _toy_models import batch, distillation_step, segmentor_cfg
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import get_state_dict, load_checkpoint
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401
from mmrdd.models.maskd import load_receptive_tokens
from mmrdd.runtime import kd_to_student_checkpoint

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RDD = osp.join(ROOT, 'configs', 'rdd')
CITY = '_deeplabv3_r101-d8_{}_4xb4-40k_cityscapes-512x1024.py'
STUDENTS = ('deeplabv3_r18-d8', 'pspnet_r18-d8', 'deeplabv3_mbv2-d8')
TOY = '_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'
STAGE1 = 'maskd-tokens_deeplabv3_r101-d8_4xb4-10k_cityscapes-512x1024.py'
STAGE1_TOY = 'maskd-tokens_deeplabv3_toy-r50_1xb8-500_toyseg-96x96.py'


def _randn(*shape, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * scale


def _cfg(name: str) -> Config:
    return Config.fromfile(osp.join(RDD, name))


@pytest.fixture
def tokens():
    return _randn(8, 19, seed=0, scale=0.3)


@pytest.fixture
def token_file(tmp_path, tokens):
    """The stage-1 checkpoint as tools/train.py writes it."""
    path = str(tmp_path / 'iter_10000.pth')
    torch.save(
        dict(meta=dict(iter=10000), state_dict={'tokens.mask_token': tokens}),
        path)
    return path


def _loss(tokens=None, **kwargs):
    return MODELS.build(
        dict(
            type='MasKDLoss',
            tokens=tokens,
            num_tokens=8,
            channels=19,
            **kwargs))


# --------------------------------------------------------------- loss ----
@pytest.mark.parametrize('weight', [1.0, 0.4])
def test_loss_equals_the_official_computation(token_file, tokens, weight):
    """The configs' two terms (decode 1, auxiliary 0.4) on 19-class logits
    of the configs' stride, float64 oracle, values and gradients."""
    loss = _loss(token_file, loss_weight=weight)
    s = _randn(2, 19, 16, 32, seed=1, scale=2.0)
    t = _randn(2, 19, 16, 32, seed=2, scale=2.0)
    s_ours = s.clone().requires_grad_()
    s_ref = s.double().requires_grad_()
    ours = loss(s_ours, t)
    ref = weight * reference_maskd_loss(s_ref, t.double(), tokens.double())
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    ours.backward()
    ref.backward()
    scale = s_ref.grad.abs().max()
    assert (s_ours.grad - s_ref.grad).abs().max() <= 1e-5 * scale


def test_tokens_are_a_frozen_checkpointed_buffer(token_file, tokens):
    loss = _loss(token_file)
    assert list(loss.parameters()) == []
    assert torch.equal(loss.state_dict()['mask_token'], tokens)
    s = _randn(1, 19, 4, 4, seed=3).requires_grad_()
    t = _randn(1, 19, 4, 4, seed=4).requires_grad_()
    loss(s, t).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None


def test_token_files_of_stage_one_the_official_code_and_a_distillation(
        tmp_path, token_file, tokens):
    official = str(tmp_path / 'official.pth')  # MaskModule's state dict
    torch.save(dict(mask_token=tokens), official)
    distill = str(tmp_path / 'distill.pth')  # one entry per MasKD loss
    torch.save(
        dict(
            state_dict={
                'distiller.distill_losses.loss_maskd.mask_token': tokens,
                'distiller.distill_losses.loss_maskd_aux.mask_token': tokens,
                'architecture.conv.weight': torch.ones(1)
            }), distill)
    for path in (token_file, official, distill):
        assert torch.equal(load_receptive_tokens(path, 8, 19), tokens)


def test_bad_token_files_are_refused_with_the_fix(tmp_path, tokens):
    with pytest.raises(FileNotFoundError, match='maskd-tokens_'):
        _loss(str(tmp_path / 'missing.pth'))
    other = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict={'conv.weight': tokens}), other)
    with pytest.raises(KeyError, match='no "mask_token"'):
        _loss(other)
    two = str(tmp_path / 'two.pth')
    torch.save({'a.mask_token': tokens, 'b.mask_token': tokens + 1}, two)
    with pytest.raises(KeyError, match='different token matrices'):
        _loss(two)
    official = str(tmp_path / 'official.pth')
    torch.save(dict(mask_token=tokens), official)
    with pytest.raises(ValueError, match=r'\(8, 19\)'):
        MODELS.build(
            dict(type='MasKDLoss', tokens=official, num_tokens=8, channels=8))


def test_bad_arguments_and_inputs(token_file):
    with pytest.raises(ValueError, match='num_tokens'):
        MODELS.build(dict(type='MasKDLoss', tokens=None, num_tokens=1))
    with pytest.raises(ValueError, match='num_tokens'):
        MODELS.build(dict(type='MasKDLoss', tokens=None, num_tokens=True))
    with pytest.raises(ValueError, match='eps'):
        _loss(token_file, eps=0)
    loss = _loss(token_file)
    with pytest.raises(ValueError, match='19'):
        loss(torch.zeros(1, 8, 4, 4), torch.zeros(1, 8, 4, 4))
    with pytest.raises(ValueError, match='same shape'):
        loss(torch.zeros(1, 19, 4, 4), torch.zeros(1, 19, 4, 5))


def test_without_tokens_the_loss_waits_for_a_state_dict(tokens, token_file):
    """tokens=None (a resumed run, a test) runs only once a state dict
    gave the tokens; then it equals the loss built from the file."""
    loss = _loss(None)
    s, t = _randn(1, 19, 4, 4, seed=5), _randn(1, 19, 4, 4, seed=6)
    with pytest.raises(RuntimeError, match='no tokens'):
        loss(s, t)
    loss.load_state_dict({'mask_token': tokens})
    assert loss(s, t).item() == _loss(token_file)(s, t).item()


# ------------------------------------------------------------ stage 1 ----
def _trainer(align_corners=True, **kwargs):
    teacher = segmentor_cfg()
    teacher['decode_head']['align_corners'] = align_corners
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(
            dict(
                _scope_='mmrazor',
                type='MasKDTokenTrainer',
                teacher=teacher,
                **kwargs))


def test_token_trainer_computes_the_official_stage_one():
    """The frozen teacher's decode logits through the tokens, CE over
    labelled pixels (the head's align_corners: True here, as the official
    models) + the overlap; the gradient reaches the tokens only."""
    trainer = _trainer()
    trainer.train()
    tokens = _randn(8, 5, seed=7, scale=0.5)
    with torch.no_grad():
        trainer.tokens.mask_token.copy_(tokens)
    inputs, samples = batch(n=2, size=(32, 40))
    losses = trainer(inputs, samples, mode='loss')
    assert set(losses) == {'loss_ce', 'loss_dice', 'mask_mean'}
    total = losses['loss_ce'] + losses['loss_dice']
    total.backward()
    with torch.no_grad():
        teacher = trainer.teacher
        logits = teacher.decode_head(teacher.extract_feat(inputs))
    labels = torch.cat([s.gt_sem_seg.data for s in samples])
    ref_tokens = tokens.double().requires_grad_()
    ref = reference_token_stage_loss(logits.double(), labels, ref_tokens, 255)
    ref.backward()
    assert total.item() == pytest.approx(ref.item(), rel=1e-5)
    grad, ref_grad = trainer.tokens.mask_token.grad, ref_tokens.grad
    assert (grad - ref_grad).abs().max() <= 1e-5 * ref_grad.abs().max()
    assert losses['mask_mean'].item() == pytest.approx(
        reference_maskd_masks(logits, tokens).mean().item(), rel=1e-5)
    assert all(p.grad is None for p in trainer.teacher.parameters())
    assert not trainer.teacher.training and trainer.tokens.training


def test_token_trainer_checkpoint_holds_the_tokens_only(tmp_path):
    trainer = _trainer()
    assert list(trainer.state_dict()) == ['tokens.mask_token']
    assert list(get_state_dict(trainer)) == ['tokens.mask_token']
    path = str(tmp_path / 'iter_1.pth')
    torch.save(dict(state_dict=get_state_dict(trainer)), path)
    # what --resume does: MMEngine's loader, strict, into a fresh trainer
    other = _trainer()
    teacher_before = {
        k: v.clone()
        for k, v in other.teacher.state_dict().items()
    }
    load_checkpoint(other, path, strict=True)
    assert torch.equal(other.tokens.mask_token, trainer.tokens.mask_token)
    for key, value in other.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[key]), key
    # and stage 2 reads it
    assert torch.equal(
        load_receptive_tokens(path, 8, 5), trainer.tokens.mask_token)


def test_token_trainer_refuses_prediction_bad_labels_and_arguments():
    trainer = _trainer()
    inputs, samples = batch(n=1, size=(32, 40))
    with pytest.raises(RuntimeError, match='val_cfg=None'):
        trainer(inputs, samples, mode='predict')
    samples[0].gt_sem_seg.data[0, 0, 0] = 7  # 5 classes
    with pytest.raises(ValueError, match='trainIds'):
        trainer(inputs, samples, mode='loss')
    masks = trainer(inputs, mode='tensor')
    assert masks.shape == (1, 8, 4, 5)
    with pytest.raises(ValueError, match='num_tokens'):
        _trainer(num_tokens=1)
    with pytest.raises(ValueError, match='dice_weight'):
        _trainer(dice_weight=-1)


# ------------------------------------------------------------ configs ----
@pytest.mark.parametrize('student', STUDENTS)
def test_one_stage_config_is_the_rdd_config_without_rdd(student):
    one = _cfg('maskd_logits' + CITY.format(student))
    rdd = _cfg('rdd+maskd_logits' + CITY.format(student))
    assert one.model.distiller.type == 'ConfigurableDistiller'
    assert rdd.model.distiller.type == 'RDDDistiller'
    assert one.custom_hooks == []
    assert one.model.architecture == rdd.model.architecture
    for key in ('student_recorders', 'teacher_recorders', 'distill_losses',
                'loss_forward_mappings'):
        assert one.model.distiller[key].items() <= \
            rdd.model.distiller[key].items(), key
    losses = one.model.distiller.distill_losses
    # the official weights: decode 1, auxiliary 0.4 (ResNet students only)
    weights = {k: v.loss_weight for k, v in losses.items()}
    expected = dict(loss_maskd=1.0)
    if student != 'deeplabv3_mbv2-d8':
        expected['loss_maskd_aux'] = 0.4
    assert weights == expected
    assert set(rdd.model.distiller.distill_losses) == set(expected)
    assert all(v.num_tokens == 8 and v.channels == 19 for v in losses.values())


@pytest.mark.parametrize('stage1, distill', [
    (STAGE1, 'maskd_logits' + CITY.format('deeplabv3_r18-d8')),
    (STAGE1, 'rdd+maskd_logits' + CITY.format('pspnet_r18-d8')),
    (STAGE1, 'maskd_logits' + CITY.format('deeplabv3_mbv2-d8')),
    (STAGE1_TOY, 'maskd_logits' + TOY),
    (STAGE1_TOY, 'rdd+maskd_logits' + TOY),
])
def test_distillation_loads_what_stage_one_writes_for_its_teacher(
        stage1, distill):
    tokens_cfg, cfg = _cfg(stage1), _cfg(distill)
    written = (f'work_dirs/{osp.splitext(stage1)[0]}/'
               f'iter_{tokens_cfg.train_cfg.max_iters}.pth')
    for loss in cfg.model.distiller.distill_losses.values():
        assert loss.tokens == written
    assert tokens_cfg.model.teacher == cfg.model.teacher
    assert tokens_cfg.model.teacher_ckpt == cfg.model.teacher_ckpt
    assert tokens_cfg.param_scheduler[0].end == tokens_cfg.train_cfg.max_iters
    assert tokens_cfg.val_cfg is None and tokens_cfg.val_dataloader is None


def test_stage_one_schedule_is_the_official_one():
    cfg = _cfg(STAGE1)
    assert cfg.train_cfg.max_iters == 10000
    assert cfg.train_dataloader.batch_size * 4 == 16  # 4 GPUs
    assert dict(cfg.optim_wrapper.optimizer) == dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-3)
    assert (cfg.param_scheduler[0].type, cfg.param_scheduler[0].power,
            cfg.param_scheduler[0].eta_min) == ('PolyLR', 0.9, 0.0)
    toy = _cfg(STAGE1_TOY)
    assert toy.train_cfg.max_iters * 4 == 2000  # a quarter, as 10k of 40k
    assert toy.optim_wrapper.optimizer == cfg.optim_wrapper.optimizer


# --------------------------------------------------------- toy step ----
def test_toy_step_trains_the_student_and_the_converter_drops_the_tokens(
        tmp_path):
    cfg = _cfg('rdd+maskd_logits' + TOY)
    tokens = _randn(8, 8, seed=8, scale=0.5)
    path = str(tmp_path / 'tokens.pth')
    torch.save(dict(mask_token=tokens), path)
    distiller = cfg.model.distiller
    for loss in distiller.distill_losses.values():
        loss.tokens = path
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(dict(cfg.model, teacher_ckpt=None))
        student = MODELS.build(cfg.model.architecture)
    model.train()
    model.distiller.set_stage('tse')
    inputs, samples = batch(n=2, size=(96, 96))
    for s in samples:
        s.gt_sem_seg.data.clamp_(max=7)  # the toy models' 8 classes
    distillation_step(model, ('distill.loss_maskd', 'distill.loss_maskd_aux'),
                      inputs, samples)
    state = model.state_dict()
    for name in ('loss_maskd', 'loss_maskd_aux'):
        key = f'distiller.distill_losses.{name}.mask_token'
        assert torch.equal(state[key], tokens)
    converted = kd_to_student_checkpoint(dict(state_dict=state))
    assert set(converted['state_dict']) == set(student.state_dict())
    assert not any('mask_token' in k for k in converted['state_dict'])
