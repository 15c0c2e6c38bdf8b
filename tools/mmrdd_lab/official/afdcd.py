# Copyright (c) mmrdd contributors. All rights reserved.
"""Af-DCD: ``AfDCDLoss`` against OSVAI/Af-DCD's
``OmniContrastiveFeatureLoss`` (``losses/ocmgd.py``).

The official loss is built with the arguments ``train_ocmgd.py`` gives it
(its ``parse_args`` is run on each Cityscapes script's command line); ours
is built from our Cityscapes config. Our module gets the official one's
weights (alignment, projector), both draw their random mask after the same
``torch.manual_seed``, and the values, the gradients with respect to the
student feature and to every learned parameter are compared. The
contrastive term alone is also compared at the full Cityscapes feature
size (4 x 2048 x 64 x 128).
"""
import os.path as osp
from typing import Dict, List

import torch
from mmengine.config import Config
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401
from mmrdd.functional.afdcd import omni_contrastive_loss
from .common import (compare, load_module, official_args, script_arguments,
                     seeded, shapes)

REPOSITORY = 'OSVAI/Af-DCD'
FILES = ['losses/ocmgd.py', 'train_ocmgd.py', 'train_scripts/cityscape/']
SCRIPTS = {
    'r18': 'train_scripts/cityscape/deeplabv3_r101_deeplabv3_r18_ocmgd.sh',
    'mbv2': 'train_scripts/cityscape/deeplabv3_r101_mbv2_r18_v2_ocmgd.sh',
}
CONFIGS = {
    'r18':
    'afdcd_feat_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_'
    'cityscapes-512x1024.py',
    'mbv2':
    'afdcd_feat_deeplabv3_r101-d8_deeplabv3_mbv2-d8_4xb4-40k_'
    'cityscapes-512x1024.py',
}
#: batch and feature size of the module cases (the projector's 3x3
#: convolutions on 2048 channels dominate the CPU time); the channels are
#: the configs'
BATCH, SIZE = 2, (16, 32)
FULL_SIZE = (4, 2048, 64, 128)


def our_name(official: str) -> str:
    """Our parameter name for an official one (typos of the original)."""
    return official.replace('projetor.',
                            'projector.').replace('adpator', 'adaptor')


def script_cases(root: str) -> List[dict]:
    """What the Cityscapes scripts ask ``train_ocmgd.py`` for.

    Returns:
        list[dict]: Per script: its arguments, what ``parse_args`` made of
        them (or its error) and the loss arguments each reading gives.
    """
    out = []
    for key, script in SCRIPTS.items():
        argv = script_arguments(root, script, 'train_ocmgd.py')
        parsed, error = official_args(root, 'train_ocmgd.py', argv)
        out.append(
            dict(
                student=key,
                script=script,
                argv=argv,
                parse_args=parsed and {
                    k: parsed[k]
                    for k in ('lambda_kd', 'lambda_fd', 'lambda_ctr',
                              'rand_mask', 'mask_ratio', 'enhance_projector',
                              'lr', 'weight_decay', 'batch_size',
                              'max_iterations', 'crop_size')
                },
                parse_args_error=error))
    return out


def module_case(mod, name: str, loss_cfg: dict, rand_mask: bool, enhance: bool,
                dtype: torch.dtype, seed: int) -> dict:
    """One comparison of the whole loss module."""
    s_ch, t_ch = loss_cfg['student_channels'], loss_cfg['teacher_channels']
    torch.manual_seed(seed)
    official = mod.OmniContrastiveFeatureLoss(
        student_channels=s_ch,
        teacher_channels=t_ch,
        tau_ocd=loss_cfg['tau'],
        M_ocd=loss_cfg['groups'],
        pool_size=loss_cfg['pool_size'],
        patch_size=tuple(loss_cfg['patch_size']),
        rand_mask=rand_mask,
        mask_ratio=loss_cfg['mask_ratio'],
        enhance_projector=enhance,
        dataset='citys').to(dtype)
    cfg = dict(
        loss_cfg,
        mask='random' if rand_mask else 'center',
        projector='enhanced' if enhance else 'plain')
    ours = MODELS.build(cfg).to(dtype)
    ours.load_state_dict(
        {our_name(k): v
         for k, v in official.state_dict().items()})
    feat_s = seeded(BATCH, s_ch, *SIZE, seed=seed + 1, dtype=dtype).relu()
    feat_t = seeded(BATCH, t_ch, *SIZE, seed=seed + 2, dtype=dtype).relu()
    in_o = {'preds_S': feat_s.clone().requires_grad_()}
    in_u = {'preds_S': feat_s.clone().requires_grad_()}
    in_o.update(
        {f'param:{our_name(k)}': p
         for k, p in official.named_parameters()})
    in_u.update({f'param:{k}': p for k, p in ours.named_parameters()})
    torch.manual_seed(seed + 3)
    fd_o, ctr_o = official(in_o['preds_S'], feat_t)
    torch.manual_seed(seed + 3)
    fd_u, ctr_u = ours.terms(in_u['preds_S'], feat_t)
    torch.manual_seed(seed + 3)  # the same mask again
    total_u = ours(in_u['preds_S'], feat_t)
    w_fd, w_ctr = loss_cfg['fd_weight'], loss_cfg['ctr_weight']
    terms_o = dict(fd=fd_o, ctr=ctr_o, loss=w_fd * fd_o + w_ctr * ctr_o)
    terms_u = dict(fd=fd_u, ctr=ctr_u, loss=total_u)
    return dict(
        name=name,
        dtype=str(dtype).replace('torch.', ''),
        arguments=dict(
            official=dict(
                student_channels=s_ch,
                teacher_channels=t_ch,
                rand_mask=rand_mask,
                enhance_projector=enhance,
                lambda_fd=w_fd,
                lambda_ctr=w_ctr),
            ours=cfg),
        shapes=shapes(dict(preds_S=feat_s, preds_T=feat_t)),
        terms=compare(terms_o, terms_u, in_o, in_u))


def contrast_case(mod, loss_cfg: dict, dtype: torch.dtype, seed: int) -> dict:
    """The contrastive term alone at the full Cityscapes feature size."""
    official = mod.OmniContrastiveFeatureLoss(
        student_channels=loss_cfg['teacher_channels'],
        teacher_channels=loss_cfg['teacher_channels'],
        tau_ocd=loss_cfg['tau'],
        M_ocd=loss_cfg['groups'],
        pool_size=loss_cfg['pool_size'],
        patch_size=tuple(loss_cfg['patch_size']))
    proj = seeded(*FULL_SIZE, seed=seed, dtype=dtype)
    feat_t = seeded(*FULL_SIZE, seed=seed + 1, dtype=dtype).relu()
    in_o = {'projected_S': proj.clone().requires_grad_()}
    in_u = {'projected_S': proj.clone().requires_grad_()}
    terms_o = dict(
        ctr=official.get_omni_contrastive_loss(in_o['projected_S'], feat_t) /
        FULL_SIZE[0])
    terms_u = dict(
        ctr=omni_contrastive_loss(in_u['projected_S'], feat_t, loss_cfg['tau'],
                                  loss_cfg['groups'], loss_cfg['patch_size'],
                                  loss_cfg['pool_size']))
    return dict(
        name='omni-contrast alone, Cityscapes feature size',
        dtype=str(dtype).replace('torch.', ''),
        arguments=dict(
            tau=loss_cfg['tau'],
            groups=loss_cfg['groups'],
            patch_size=loss_cfg['patch_size'],
            pool_size=loss_cfg['pool_size']),
        shapes=shapes(dict(projected_S=proj, preds_T=feat_t)),
        terms=compare(terms_o, terms_u, in_o, in_u))


def run(root: str, repo_root: str, seed: int = 0) -> Dict[str, object]:
    """All Af-DCD cases.

    Args:
        root (str): The official checkout.
        repo_root (str): This repository (for the configs).
        seed (int): Base seed of inputs and masks. Defaults to 0.

    Returns:
        dict: ``repository``, ``files``, ``official_arguments`` and
        ``cases`` for the result file.
    """
    mod = load_module(root, 'losses/ocmgd.py')
    loss = {
        key: Config.fromfile(
            osp.join(repo_root, 'configs', 'rdd',
                     cfg)).model.distiller.distill_losses.loss_afdcd.to_dict()
        for key, cfg in CONFIGS.items()
    }
    cases = [
        module_case(
            mod, 'R18 config: central mask, enhanced projector (what the '
            'R18 script asks for)', loss['r18'], False, True, torch.float32,
            seed),
        module_case(
            mod, 'R18, random mask, enhanced projector (what the R18 '
            'script runs with its flags spelled --rand-mask/'
            "--enhance-projector: type=bool reads 'False' as True)",
            loss['r18'], True, True, torch.float32, seed + 10),
        module_case(
            mod, 'MobileNetV2 config: random mask, plain projector (the '
            'MobileNetV2 script, train_ocmgd.py defaults)', loss['mbv2'], True,
            False, torch.float32, seed + 20),
        module_case(mod, 'MobileNetV2 config, float64', loss['mbv2'], True,
                    False, torch.float64, seed + 30),
        contrast_case(mod, loss['r18'], torch.float32, seed + 40),
    ]
    return dict(
        repository=REPOSITORY,
        files=FILES,
        official_arguments=script_cases(root),
        cases=cases)
