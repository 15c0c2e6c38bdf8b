# Copyright (c) mmrdd contributors. All rights reserved.
"""Is an augmentation good for KD? Teacher-only statistics of a pipeline.

Wang et al., "What Makes a 'Good' Data Augmentation in Knowledge
Distillation -- A Statistical Perspective", NeurIPS 2022 (arXiv 2012.02909
v3) show that the student's test loss follows the standard deviation of
the teacher's mean probability ("T. stddev", lower is better), a statistic
of the teacher alone. Their code (``helper/loops.py``, ``check_ce_var``)
averages the teacher's softmax over the samples of a subset of training
inputs (5 batches of 64 images), repeats this over many subsets, and
reports the per-class standard deviation of those means, averaged over the
classes, with the mean teacher entropy.

For segmentation every pixel is a sample: a subset is ``group`` training
batches, its mean probability is the mean of the teacher's softmax over
all pixels (at the logit resolution) of all its images, and T. stddev is
the unbiased standard deviation over the subsets, per class, averaged over
the classes (:func:`~mmrdd.functional.kd_stats.t_stddev`). The inputs are
those the student would be trained on: the augmented batch (the official
code adds the unaugmented one, which its student also trains on; ours
trains on the augmented batch only). Every variant sees the same training
batches (one pass of the dataloader, kept), each with its own seeded
generator.
"""
import copy
from collections import OrderedDict
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmrdd.functional.kd_pick import pixel_entropy, top_indices
from mmrdd.functional.kd_stats import t_stddev

#: (inputs, data_samples, teacher) -> the teacher's main logits of the
#: batch the student would train on
Variant = Callable[[Tensor, list, Callable[[Tensor], Tensor]], Tensor]


def teacher_main_logits(teacher: nn.Module) -> Callable[[Tensor], Tensor]:
    """``x -> `` the teacher's prediction-head logits, eval, no gradient."""
    from mmrdd.models.utils import main_head, run_heads
    main = main_head(teacher)
    teacher.eval()

    def run(x: Tensor) -> Tensor:
        with torch.no_grad():
            return run_heads(teacher, teacher.extract_feat(x))[main]

    return run


def augment_variant(augment: Callable) -> Variant:
    """A batch augmentation as a variant: the teacher on the mixed batch."""

    def run(inputs, samples, teacher):
        x, _ = augment(inputs, copy.deepcopy(samples))
        return teacher(x)

    return run


def pick_variant(picker) -> Variant:
    """An :class:`~mmrdd.models.CandidatePicker` (teacher criterion)."""
    if picker.criterion != 'entropy':
        raise ValueError('the statistics need only the teacher: pick with '
                         "criterion='entropy'.")

    def run(inputs, samples, teacher):
        images, _ = picker.candidates(inputs, samples)
        logits = teacher(images)
        return logits[top_indices(picker.scores(logits), inputs.shape[0])]

    return run


def default_variants(cutmix_prob: float = 0.5,
                     mixup_prob: float = 0.5,
                     alpha: float = 1.0,
                     pool: int = 2,
                     seed: int = 0) -> Dict[str, Variant]:
    """No augmentation, CutMix, mixup and CutMixPick (teacher entropy).

    Args:
        cutmix_prob (float): CutMix's per-sample probability. Defaults to
            0.5 (the toy CutMix config).
        mixup_prob (float): Mixup's per-sample probability. Defaults to 0.5.
        alpha (float): Beta parameter of both. Defaults to 1.0.
        pool (int): Candidate batches of the pick (CutMix on every sample).
            Defaults to 2.
        seed (int): Seed of every variant's private generator. Defaults
            to 0.

    Returns:
        dict[str, Variant]: By name, in table order.
    """
    from mmrdd.models import CandidatePicker, SegCutMix, SegMixup
    mixup = SegMixup(prob=mixup_prob, alpha=alpha, seed=seed)
    mixup.label_loss_installed = True  # no task loss here
    return OrderedDict([
        ('none', lambda inputs, samples, teacher: teacher(inputs)),
        ('cutmix',
         augment_variant(SegCutMix(prob=cutmix_prob, alpha=alpha, seed=seed))),
        ('mixup', augment_variant(mixup)),
        (f'cutmixpick (pool {pool}, T. ent.)',
         pick_variant(
             CandidatePicker(
                 pool=pool,
                 criterion='entropy',
                 augments=dict(
                     type='SegCutMix', prob=1.0, alpha=alpha, seed=seed)))),
    ])


def augment_stats(batches: Sequence[Tuple[Tensor, list]],
                  teacher: Callable[[Tensor], Tensor],
                  variants: Dict[str, Variant],
                  group: int = 1) -> Dict[str, Dict[str, float]]:
    """T. stddev and mean teacher entropy of each variant.

    Args:
        batches (Sequence[tuple]): Preprocessed training batches,
            ``(inputs (N, C, H, W), data_samples)``, the same for every
            variant.
        teacher (Callable): ``x -> `` teacher logits (N, C, h, w).
        variants (dict[str, Variant]): By name.
        group (int): Batches per subset. Defaults to 1.

    Returns:
        dict[str, dict[str, float]]: Per variant ``t_stddev``,
        ``entropy`` (mean per-pixel teacher entropy, nats) and
        ``subsets``.
    """
    num = len(batches) // group
    if num < 2:
        raise ValueError(f'T. stddev needs >= 2 subsets: {len(batches)} '
                         f'batches in subsets of {group} give {num}; '
                         'raise the number of batches.')
    out = OrderedDict()
    for name, variant in variants.items():
        sums: List[Tensor] = []
        counts: List[int] = []
        ent_sum, ent_count = 0.0, 0
        for inputs, samples in batches[:num * group]:
            logits = variant(inputs, samples, teacher).float()
            prob = torch.softmax(logits, dim=1)
            sums.append(prob.sum(dim=(0, 2, 3)))
            pixels = prob.shape[0] * prob.shape[2] * prob.shape[3]
            counts.append(pixels)
            ent_sum += float(pixel_entropy(logits).sum())
            ent_count += pixels
        means = torch.stack([
            torch.stack(sums[g * group:(g + 1) * group]).sum(0) /
            sum(counts[g * group:(g + 1) * group]) for g in range(num)
        ])
        out[name] = dict(
            t_stddev=float(t_stddev(means)),
            entropy=ent_sum / ent_count,
            subsets=num)
    return out


def format_table(stats: Dict[str, Dict[str, float]]) -> str:
    """The statistics as a fixed-width text table."""
    width = max(len(k) for k in stats) + 2
    lines = [
        f'{"variant":<{width}}{"T. stddev":>12}{"T. entropy":>12}'
        f'{"subsets":>9}', '-' * (width + 33)
    ]
    for name, s in stats.items():
        lines.append(f'{name:<{width}}{s["t_stddev"]:>12.6f}'
                     f'{s["entropy"]:>12.4f}{s["subsets"]:>9d}')
    return '\n'.join(lines)


def load_pipeline(
        cfg,
        num_batches: int,
        device: str = 'cpu',
        seed: int = 0) -> Tuple[List[Tuple[Tensor, list]], nn.Module]:
    """The teacher and ``num_batches`` preprocessed training batches.

    The teacher is ``cfg.model.teacher`` with ``cfg.model.teacher_ckpt``
    (strictly loaded); the preprocessor is the algorithm's
    (``cfg.model.data_preprocessor``, without its batch augmentations) or
    else the teacher's. No student is built.

    Args:
        cfg (Config): A distillation config of mmrdd.
        num_batches (int): How many training batches to keep.
        device (str): Where the teacher runs. Defaults to 'cpu'.
        seed (int): Seed of the dataloader. Defaults to 0.

    Returns:
        tuple: The batches and the teacher.
    """
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    from mmrazor.registry import MODELS as RAZOR_MODELS
    from mmseg.registry import MODELS as SEG_MODELS

    from mmrdd.runtime import load_checkpoint_strict
    teacher = RAZOR_MODELS.build(cfg.model.teacher)
    if cfg.model.get('teacher_ckpt'):
        load_checkpoint_strict(teacher, cfg.model.teacher_ckpt)
    teacher.to(device).eval()
    pre_cfg = cfg.model.get('data_preprocessor')
    if pre_cfg:
        pre_cfg = copy.deepcopy(pre_cfg)
        pre_cfg.pop('batch_augments', None)
        pre_cfg['type'] = pre_cfg['type'].split('.')[-1]
        preprocessor = SEG_MODELS.build(pre_cfg)
    else:
        preprocessor = teacher.data_preprocessor
    preprocessor.to(device)
    with DefaultScope.overwrite_default_scope('mmseg'):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=seed)
    batches = []
    for data in loader:
        data = preprocessor(data, training=True)
        batches.append((data['inputs'], data['data_samples']))
        if len(batches) == num_batches:
            break
    if len(batches) < num_batches:
        raise ValueError(f'the training dataloader gave {len(batches)} '
                         f'batches, fewer than the {num_batches} asked for.')
    return batches, teacher
