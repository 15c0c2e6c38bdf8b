# Copyright (c) mmrdd contributors. All rights reserved.
"""KT: our losses against seok-hwa/KT's training loop.

The official code computes the logit and feature tailoring inline, in the
training loop of ``train_KT.py`` (``Trainer.train``), with ``CriterionKT``
(``losses/KT.py``), ``CriterionKD`` (``losses/kd.py``) and ``Tailoring``
(``models/tailoring.py``). This check runs those statements themselves:

* ``parse_args`` of ``train_KT.py`` on ``train_KT.sh``'s command line (for
  a MobileNetV2 student with ``--student-model deeplab_mobile
  --student-backbone mobilenetv2`` added);
* the statements of ``Trainer.__init__`` from ``self.st_conv = ...`` to
  ``self.criterion_LT = ...`` (the criteria and the 1x1 convolution);
  the two ``Tailoring`` modules are built as ``__init__`` builds them but
  with ``(C, C // 2)`` for our channels (it hard-codes 128 and 256, the
  official models' widths);
* the statements of the training loop from ``target_mask = ...`` up to
  ``losses = ...``, with ``t_outputs``, ``s_outputs``, ``targets`` and
  ``iteration`` set to seeded tensors (official ignore label -1).

Our losses are built from our Cityscapes configs and get the official
modules' weights. Compared: the logit KD (``output_loss``), the logit
tailoring (``LT_loss``), the feature tailoring (``FT_loss``) and its
triplet term (``contrastive_loss``), values and gradients with respect to
the student's logits, auxiliary logits and feature, before and after the
tuning point, at the Cityscapes size (2 crops of 512 x 1024 per GPU, as the
official 8 GPUs x 2).
"""
import ast
import os.path as osp
from types import SimpleNamespace
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmrazor.registry import MODELS

import mmrdd  # noqa: F401
from .common import (compare, find_def, load_module, official_args, parse_file,
                     run_statements, script_arguments, seeded, shapes,
                     statements)

REPOSITORY = 'seok-hwa/KT'
FILES = [
    'train_KT.py', 'train_KT.sh', 'losses/KT.py', 'losses/kd.py',
    'losses/task.py', 'models/tailoring.py'
]
CONFIGS = {
    'r18':
    'kt_feat_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_'
    'cityscapes-512x1024.py',
    'pspnet_r18':
    'kt_feat_deeplabv3_r101-d8_pspnet_r18-d8_4xb4-40k_'
    'cityscapes-512x1024.py',
    'mbv2':
    'kt_feat_deeplabv3_r101-d8_deeplabv3_mbv2-d8_4xb4-40k_'
    'cityscapes-512x1024.py',
}
MOBILE = [
    '--student-model', 'deeplab_mobile', '--student-backbone', 'mobilenetv2'
]
NUM_CLASSES, BATCH, LABEL_SIZE = 19, 2, (512, 1024)
LOGIT_SIZE = (64, 128)
#: official ignore label and ours
OFFICIAL_IGNORE, IGNORE = -1, 255


def parsed_args(root: str, extra: List[str]) -> dict:
    """``parse_args`` on ``train_KT.sh``'s arguments (+ ``extra``).

    Returns:
        dict: ``argv``, ``error`` (argparse's refusal of the script as it
        is, '' if none), ``retried_with`` and ``args``.
    """
    argv = script_arguments(root, 'train_KT.sh', 'train_KT.py') + extra
    args, error = official_args(root, 'train_KT.py', argv)
    retried = []
    if args is None and "--flag: invalid int value: 'None'" in error:
        # `--flag` is declared type=int with default 'None', which argparse
        # converts and refuses unless the flag is given
        retried = ['--flag', '0']
        args, _ = official_args(root, 'train_KT.py', argv + retried)
    if args is None:
        raise RuntimeError(f'train_KT.py refuses {argv}: {error}')
    return dict(argv=argv, error=error, retried_with=retried, args=args)


def official_objects(root: str, args: dict, s_ch: int, t_ch: int) -> dict:
    """The official criteria, 1x1 convolution and tailoring modules."""
    losses = {}
    for rel in ('losses/task.py', 'losses/kd.py', 'losses/KT.py'):
        mod = load_module(root, rel)
        losses.update({k: getattr(mod, k) for k in mod.__all__})
    tree = parse_file(root, 'train_KT.py')
    init = find_def(tree, 'Trainer', '__init__')
    args_ns = SimpleNamespace(**args)
    trainer = SimpleNamespace(
        args=args_ns, device='cpu', num_class=NUM_CLASSES)
    ns = dict(
        self=trainer,
        args=args_ns,
        s_channels=s_ch,
        t_channels=t_ch,
        nn=nn,
        torch=torch,
        F=F,
        **losses)
    run_statements(
        statements(init.body, 'self.st_conv', 'self.criterion_LT', True), ns,
        'train_KT.py')
    tailoring = load_module(root, 'models/tailoring.py').Tailoring
    trainer.tc_tail = tailoring(s_ch, s_ch // 2)
    trainer.st_tail = tailoring(t_ch, t_ch // 2)
    return dict(trainer=trainer, tree=tree)


def run_loop(objects: dict, args: dict, inputs: dict,
             iteration: int) -> Dict[str, torch.Tensor]:
    """The official loop's statements on one batch; its loss terms."""
    train = find_def(objects['tree'], 'Trainer', 'train')
    loop = next(n for n in train.body if isinstance(n, ast.For))
    body = statements(loop.body, 'target_mask', 'losses', False)
    zero = torch.tensor(0.)
    ns = dict(
        self=objects['trainer'],
        args=SimpleNamespace(**args),
        torch=torch,
        F=F,
        t_outputs=inputs['t_outputs'],
        s_outputs=inputs['s_outputs'],
        targets=inputs['targets'],
        iteration=iteration,
        task_loss=zero,
        output_loss=zero,
        LT_loss=zero,
        FT_loss=zero,
        contrastive_loss=zero)
    run_statements(body, ns, 'train_KT.py')
    return {
        k: ns[k]
        for k in ('output_loss', 'LT_loss', 'FT_loss', 'contrastive_loss')
    }


def batch(aux: bool, s_ch: int, t_ch: int, seed: int,
          dtype: torch.dtype) -> dict:
    """Seeded logits, features and labels (an absent class, ignored
    pixels)."""
    n, k = BATCH, NUM_CLASSES
    t_logits = seeded(n, k, *LOGIT_SIZE, seed=seed, dtype=dtype) * 3
    t_aux = seeded(n, k, *LOGIT_SIZE, seed=seed + 1, dtype=dtype) * 3
    s_logits = seeded(n, k, *LOGIT_SIZE, seed=seed + 2, dtype=dtype) * 3
    s_aux = seeded(n, k, *LOGIT_SIZE, seed=seed + 3, dtype=dtype) * 3
    t_feat = seeded(n, t_ch, *LOGIT_SIZE, seed=seed + 4, dtype=dtype).relu()
    s_feat = seeded(n, s_ch, *LOGIT_SIZE, seed=seed + 5, dtype=dtype).relu()
    g = torch.Generator().manual_seed(seed + 6)
    labels = torch.randint(0, k, (n, *LABEL_SIZE), generator=g)
    labels[0][labels[0] == k - 1] = 0  # class k - 1 absent from image 0
    ignored = torch.rand((n, *LABEL_SIZE), generator=g) < 0.1
    return dict(
        t=[t_logits, t_aux, t_feat],
        s=[s_logits, s_aux, s_feat] if aux else [s_logits, s_feat],
        labels=labels.masked_fill(ignored, IGNORE),
        official_labels=labels.masked_fill(ignored, OFFICIAL_IGNORE))


def case(root: str, name: str, parsed: dict, loss_cfgs: dict, phase: str,
         seed: int, dtype: torch.dtype) -> dict:
    """One batch through the official loop and our losses."""
    args = parsed['args']
    feat_cfg = loss_cfgs['loss_kt_feat']
    s_ch, t_ch = feat_cfg['student_channels'], feat_cfg['teacher_channels']
    objects = official_objects(root, args, s_ch, t_ch)
    trainer = objects['trainer']
    for name_ in ('tc_tail', 'st_tail', 'st_conv'):
        getattr(trainer, name_).to(dtype)
    ours = {k: MODELS.build(v).to(dtype) for k, v in loss_cfgs.items()}
    feat_loss = ours['loss_kt_feat']
    feat_loss.student_tail.load_state_dict({
        k[len('layers.'):]: v
        for k, v in trainer.st_tail.state_dict().items()
    })
    feat_loss.teacher_tail.load_state_dict({
        k[len('layers.'):]: v
        for k, v in trainer.tc_tail.state_dict().items()
    })
    feat_loss.student_conv.load_state_dict(trainer.st_conv.state_dict())
    data = batch(args['aux'], s_ch, t_ch, seed, dtype)
    keys = ['logits', 'aux_logits', 'feat'
            ] if args['aux'] else ['logits', 'feat']
    in_o = {k: v.clone().requires_grad_() for k, v in zip(keys, data['s'])}
    in_u = {k: v.clone().requires_grad_() for k, v in zip(keys, data['s'])}
    # official 1-based iteration and our 0-based one, same side of the point
    official_iter = 1 if phase == 'student' else args['tuning_point'] + 1
    our_iter = official_iter - 1
    terms_o = run_loop(
        objects, args,
        dict(
            t_outputs=data['t'],
            s_outputs=[in_o[k] for k in keys],
            targets=data['official_labels']), official_iter)
    t_logits, t_aux, t_feat = data['t']
    ft, tri = feat_loss.terms(in_u['feat'], t_feat, iteration=our_iter)
    kd = ours['loss_kd'](in_u['logits'], t_logits)
    if 'loss_kd_aux' in ours:
        kd = kd + ours['loss_kd_aux'](in_u['aux_logits'], t_aux)
    terms_u = dict(
        output_loss=kd,
        LT_loss=ours['loss_kt_logits'](in_u['logits'], t_logits,
                                       data['labels']),
        FT_loss=feat_loss.ft_weight * ft,
        contrastive_loss=feat_loss.contrastive_weight * tri)
    terms_o['FT_loss + contrastive_loss'] = terms_o['FT_loss'] + \
        terms_o['contrastive_loss']
    terms_u['FT_loss + contrastive_loss'] = feat_loss(
        in_u['feat'], t_feat, iteration=our_iter)
    return dict(
        name=name,
        dtype=str(dtype).replace('torch.', ''),
        tailored=phase,
        iteration=dict(official_1_based=official_iter, ours_0_based=our_iter),
        arguments=dict(
            official={
                k: args[k]
                for k in ('aux', 'kd_temperature', 'lambda_kd', 'lambda_mask',
                          'lambda_custom', 'lambda_contrastive',
                          'tuning_point', 'crop_size')
            },
            official_modules=dict(
                tc_tail=[s_ch, s_ch // 2],
                st_tail=[t_ch, t_ch // 2],
                st_conv=[s_ch, t_ch]),
            ours=loss_cfgs),
        shapes=shapes(
            dict(
                zip([f'student_{k}' for k in keys], data['s']),
                teacher_logits=t_logits,
                teacher_aux_logits=t_aux,
                teacher_feat=t_feat,
                labels=data['labels'])),
        terms=compare(terms_o, terms_u, in_o, in_u))


def run(root: str, repo_root: str, seed: int = 0) -> Dict[str, object]:
    """All KT cases.

    Args:
        root (str): The official checkout.
        repo_root (str): This repository (for the configs).
        seed (int): Base seed of the inputs. Defaults to 0.

    Returns:
        dict: ``repository``, ``files``, ``official_arguments``, ``notes``
        and ``cases`` for the result file.
    """
    losses = {}
    for key, cfg in CONFIGS.items():
        distill = Config.fromfile(osp.join(repo_root, 'configs', 'rdd',
                                           cfg)).model.distiller.to_dict()
        losses[key] = {
            k: v
            for k, v in distill['distill_losses'].items() if k != '_delete_'
        }
    if losses['pspnet_r18'] != losses['r18']:
        raise RuntimeError('the PSPNet-R18 KT config no longer has the R18 '
                           "config's losses: add a case for it")
    parsed = dict(r18=parsed_args(root, []), mbv2=parsed_args(root, MOBILE))
    cases = []
    runs = [(key, phase, torch.float64) for key in ('r18', 'mbv2')
            for phase in ('student', 'teacher')]
    runs += [('r18', phase, torch.float32) for phase in ('student', 'teacher')]
    students = dict(
        r18='DeepLabV3-R18 / PSPNet-R18', mbv2='DeepLabV3-MobileNetV2')
    for i, (key, phase, dtype) in enumerate(runs):
        when = 'before' if phase == 'student' else 'after'
        result = case(
            root, f'{students[key]} config, the {phase} tailored ({when} '
            f'the tuning point), {str(dtype)[6:]}', parsed[key], losses[key],
            phase, seed + 10 * i, dtype)
        if dtype == torch.float32:
            # the tailoring compares logits with per-class means that the
            # two codes sum in different orders: in float32 a logit within
            # rounding of its mean can fall on the other side (a jump of
            # its gradient); float64 decides the agreement
            result['informational'] = True
        cases.append(result)
    return dict(
        repository=REPOSITORY,
        files=FILES,
        official_arguments=parsed,
        notes=[
            'the PSPNet-R18 config has the same losses and arguments as '
            'the DeepLabV3-R18 one (checked): the R18 cases cover it',
            'official switch: teacher tailored from 1-based iteration '
            f'{parsed["r18"]["args"]["tuning_point"]} (0-based '
            f'{parsed["r18"]["args"]["tuning_point"] - 1}); ours from '
            '0-based tuning_iter '
            f'{losses["r18"]["loss_kt_feat"]["tuning_iter"]}'
        ],
        cases=cases)
