# Copyright (c) mmrdd contributors. All rights reserved.
"""MasKD, ours against the official code (hunto/MasKD, ``segmentation/``).

Both stages, on the Cityscapes configs' shapes (4 images per GPU, 19-class
logits of 64x128, labels of 512x1024 with ignored pixels, 8 tokens):

* stage 2 (``MasKDLoss``): the decode-head term (weight 1) and the
  auxiliary-head term (``0.4 * lambda_kd``, lambda_kd 1) of
  ``train_maskd.py``; value and gradient with respect to the student's
  logits;
* stage 1 (``train_mask_module.py``: ``MaskModule.forward_train`` and
  ``SegCrossEntropyLoss``): value and gradient with respect to the tokens;
* stage 2 again with the tokens the official repository publishes, read by
  each code from the official file (when the checkout holds it).

The official files import only torch and have no ``.cuda()`` call: they run
on the CPU as they are. Their ignore label is -1 (ours 255): the same pixels
are ignored, each code with its own label.
"""
import os.path as osp
import tempfile
from typing import Dict

import torch
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401  (registers MasKDLoss)
from mmrdd.functional.maskd import receptive_token_masks, token_stage_losses
from .checks import difference, seeded
from .common import load_module

REPOSITORY = 'hunto/MasKD'
FILES = ('segmentation/losses/maskd.py', 'segmentation/losses/loss.py')
# the tokens the official README publishes (trained on its DeepLabV3-R101)
RELEASED_TOKENS = 'segmentation/work_dirs/dv3-r101/' \
    'deeplabv3_resnet101_citys_best_model.pth'
# the Cityscapes configs' shapes: logits of a 512x1024 crop at stride 8
BATCH, CLASSES, TOKENS = 4, 19, 8
LOGITS, LABELS = (64, 128), (512, 1024)
IGNORE_OURS, IGNORE_OFFICIAL, IGNORE_SHARE = 255, -1, 0.1


def _inputs(seed: int) -> Dict[str, torch.Tensor]:
    """Seeded logits of student and teacher (decode and auxiliary heads),
    tokens that give masks far from 0.5, and labels with ignored pixels."""
    g = torch.Generator().manual_seed(seed + 5)
    labels = torch.randint(0, CLASSES, (BATCH, *LABELS), generator=g)
    labels[torch.rand(BATCH, *LABELS, generator=g) < IGNORE_SHARE] = \
        IGNORE_OURS
    return dict(
        s=seeded(BATCH, CLASSES, *LOGITS, seed=seed, scale=2.0),
        t=seeded(BATCH, CLASSES, *LOGITS, seed=seed + 1, scale=2.0),
        s_aux=seeded(BATCH, CLASSES, *LOGITS, seed=seed + 2, scale=2.0),
        t_aux=seeded(BATCH, CLASSES, *LOGITS, seed=seed + 3, scale=2.0),
        tokens=seeded(TOKENS, CLASSES, seed=seed + 4, scale=0.3),
        labels=labels)


def _stage2(official, token_file: str, s, t, weight: float) -> Dict:
    """One MasKD term, official (times ``weight``) and ours."""
    s_off = s.clone().requires_grad_()
    s_ours = s.clone().requires_grad_()
    theirs = weight * official.MasKDLoss(
        channels=CLASSES, num_tokens=TOKENS, pretrained=token_file)(s_off, t)
    ours = MODELS.build(
        dict(
            type='MasKDLoss',
            tokens=token_file,
            num_tokens=TOKENS,
            channels=CLASSES,
            loss_weight=weight))(s_ours, t)
    theirs.backward()
    ours.backward()
    return dict(
        arguments=dict(
            loss_weight=weight, num_tokens=TOKENS, channels=CLASSES, eps=1e-5),
        value=difference(theirs, ours),
        grad_preds_S=difference(s_off.grad, s_ours.grad))


def _stage1(official, official_loss, tokens, t, labels) -> Dict:
    """Stage 1's total, its two terms and the tokens' gradient."""
    module = official.MaskModule(CLASSES, TOKENS)
    module.load_state_dict(dict(mask_token=tokens.clone()))
    out, dice_theirs = module(t)
    labels_theirs = labels.masked_fill(labels == IGNORE_OURS, IGNORE_OFFICIAL)
    ce_theirs = official_loss.SegCrossEntropyLoss(
        ignore_index=IGNORE_OFFICIAL)(out, labels_theirs)
    (ce_theirs + dice_theirs).backward()
    ours_tokens = tokens.clone().requires_grad_()
    masks = receptive_token_masks(t, ours_tokens)
    ce_ours, dice_ours = token_stage_losses(
        t, masks, labels, IGNORE_OURS, align_corners=True)
    (ce_ours + dice_ours).backward()
    return dict(
        arguments=dict(
            num_tokens=TOKENS,
            channels=CLASSES,
            dice_weight=1.0,
            align_corners=True,
            ignore_index=dict(official=IGNORE_OFFICIAL, ours=IGNORE_OURS)),
        value=difference(ce_theirs + dice_theirs, ce_ours + dice_ours),
        value_ce=difference(ce_theirs, ce_ours),
        value_dice=difference(dice_theirs, dice_ours),
        masks=difference(module.forward_mask(t), masks),
        grad_tokens=difference(module.mask_token.grad, ours_tokens.grad))


def check(root: str, seed: int = 0) -> Dict:
    """Run the official MasKD code from ``root`` and ours; compare.

    Args:
        root (str): A checkout of hunto/MasKD.
        seed (int): Seed of the inputs. Defaults to 0.

    Returns:
        dict: ``official`` (repository, files, functions), ``ours``,
        ``inputs`` (shapes) and ``checks`` (per check: arguments and the
        :func:`~mmrdd_lab.official.checks.difference` of each value and
        gradient).
    """
    official = load_module(root, FILES[0])
    official_loss = load_module(root, FILES[1])
    x = _inputs(seed)
    with tempfile.TemporaryDirectory() as tmp:
        # the official file format: MaskModule's state dict
        token_file = osp.join(tmp, 'tokens.pth')
        torch.save(dict(mask_token=x['tokens']), token_file)
        checks = dict(
            stage2_decode=_stage2(official, token_file, x['s'], x['t'], 1.0),
            stage2_aux=_stage2(official, token_file, x['s_aux'], x['t_aux'],
                               0.4),
            stage1=_stage1(official, official_loss, x['tokens'], x['t'],
                           x['labels']))
    released = osp.join(root, RELEASED_TOKENS)
    if osp.isfile(released):
        checks['stage2_released_tokens'] = dict(
            _stage2(official, released, x['s'], x['t'], 1.0),
            tokens_file=RELEASED_TOKENS)
    return dict(
        official=dict(
            repository=REPOSITORY,
            files=list(FILES),
            functions=[
                'MasKDLoss.forward', 'MaskModule.forward_mask',
                'MaskModule.forward_train', 'dice_coeff',
                'SegCrossEntropyLoss.forward'
            ],
            cpu='no .cuda() in these files; run unpatched'),
        ours=dict(
            stage2='mmrdd.models.losses.MasKDLoss (built in MMRazor MODELS)',
            stage1='mmrdd.functional.maskd.receptive_token_masks + '
            'token_stage_losses (what MasKDTokenTrainer.loss computes)'),
        inputs=dict(
            seed=seed,
            student_logits=[BATCH, CLASSES, *LOGITS],
            teacher_logits=[BATCH, CLASSES, *LOGITS],
            tokens=[TOKENS, CLASSES],
            labels=[BATCH, *LABELS],
            ignored_share=IGNORE_SHARE,
            note='MasKD distils logits: student and teacher maps both '
            'have the 19 classes as channels'),
        checks=checks)
