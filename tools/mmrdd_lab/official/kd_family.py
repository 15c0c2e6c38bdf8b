# Copyright (c) mmrdd contributors. All rights reserved.
"""The eight KD methods we had, ours against the official code.

AT, CWD, FitNet, SKD, IFVD, DSD and CIRKD against winycg/CIRKD
(``losses/*.py``; the weights of its ``scripts/train_kd/*.sh`` and of
``train_cirkd.py``, which sunyueue/RDD's ``train_cirkd_two_stage_diff.py``
keeps), DIST against hunto/DIST_KD (``segmentation/losses/dist_kd.py``,
weights of ``segmentation/train_kd.py``). One ``check_<method>(root, seed)``
per method (AT, FitNet, SKD and IFVD: rows of :data:`FEATURE_METHODS`),
named in ``tools/analysis_tools/check_official.py``'s table.

Ours is the ``model.distiller`` of the method's one-stage Cityscapes config
(:mod:`mmrdd_lab.kd_config_run`: recorders, connectors, losses, weights as
configured); both run on the same seeded tensors of the configs' widths
(student decode feature 128 channels, teacher 512, 19 classes, 4 crops,
labels of the crop with ignored pixels), each with its own leaves, so every
term is compared in value and in the gradient of every student tensor and
connector parameter it reaches. The official connectors (CWD's and
FitNet's 1x1 convolution, CIRKD's projection head) get our connectors'
initial weights.

Running the official files on the CPU: ``.cuda()`` (DSD, CIRKD) is made a
no-op while they run; CIRKD's memory gathers the batch of all processes
with ``torch.distributed`` (``concat_all_gather``), replaced by the
identity (one process). The random draws of CIRKD's memory loss (which
slots form the contrast set) are made the same for both codes by a fixed
``torch.randperm`` order per memory size.
"""
import contextlib
import dataclasses
import functools
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor

from ..kd_config_run import (CITYSCAPES, LOGIT_STD, config_distiller,
                             kd_inputs, run_config_losses)
from .checks import difference
from .common import load_module

CIRKD_REPO, DIST_REPO = 'winycg/CIRKD', 'hunto/DIST_KD'
ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG = osp.join(
    ROOT, 'configs', 'rdd',
    '{}_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py')
#: ``--ignore-label`` of the official scripts (ours: MMSeg's 255).
IGNORE_OFFICIAL = -1
#: The official weight of each term and where it is set.
KD_SOURCE = 'train_kd.py / scripts/train_kd/*.sh --lambda-kd 1.0'
CIRKD_SOURCE = ('train_cirkd.py defaults (sunyueue/RDD '
                'train_cirkd_two_stage_diff.py: the same)')


@contextlib.contextmanager
def cpu_cuda() -> Iterator[None]:
    """``Tensor.cuda()`` returns the tensor itself (the official files call
    it on new tensors; nothing here is on a GPU)."""
    cuda = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        torch.Tensor.cuda = cuda


def _leaves(x: Dict[str, Dict[str, Tensor]]) -> Tuple[Dict, Dict]:
    """Two independent sets of student leaves with the same values."""
    return ({k: v.clone().requires_grad_()
             for k, v in x['student'].items()},
            {k: v.clone().requires_grad_()
             for k, v in x['student'].items()})


def term(official: Tensor,
         ours: Tensor,
         leaves: Dict[str, Tuple[Tensor, Tensor]],
         arguments: dict,
         scale: float = 1.0) -> dict:
    """Compare one loss term, value and gradients.

    Args:
        official (Tensor): The official term, its weight applied.
        ours (Tensor): Ours, as the config computes it.
        leaves (dict): Name -> (official leaf, our leaf).
        arguments (dict): What is compared, for the JSON.
        scale (float): Ours is compared with ``scale * official`` (a
            documented deviation). Defaults to 1.0.

    Returns:
        dict: ``arguments``, ``value`` and ``grad_<leaf>`` for every leaf
        that either code reaches (a leaf reached by one code only compares
        with zeros, so it fails).
    """
    out = dict(arguments=arguments, value=difference(scale * official, ours))
    if scale != 1.0:
        out['official_unscaled'] = official.item()
    names = list(leaves)
    g_off = torch.autograd.grad(
        official, [leaves[n][0] for n in names],
        retain_graph=True,
        allow_unused=True)
    g_ours = torch.autograd.grad(
        ours, [leaves[n][1] for n in names],
        retain_graph=True,
        allow_unused=True)
    for name, a, b in zip(names, g_off, g_ours):
        if a is None and b is None:
            continue
        a = torch.zeros_like(leaves[name][0]) if a is None else a
        b = torch.zeros_like(leaves[name][1]) if b is None else b
        out[f'grad_{name}'] = difference(scale * a, b)
    return out


def _loss_cfgs(method: str) -> dict:
    cfg = Config.fromfile(CONFIG.format(method)).model.distiller
    return cfg.distill_losses.to_dict()


def _args(cfgs: dict, name: str, official: str, weight: float,
          source: str) -> dict:
    return dict(
        ours=dict(loss=name, **cfgs[name]),
        official=official,
        official_weight=weight,
        weight_source=source)


def _student_leaves(off: dict, ours: dict,
                    keys: Sequence[str]) -> Dict[str, Tuple]:
    return {f'student_{k}': (off[k], ours[k]) for k in keys}


def _pair_params(official: torch.nn.Module, ours: torch.nn.Module,
                 prefix: str) -> Dict[str, Tuple[Tensor, Tensor]]:
    """Give the official module our parameters' values; pair them up."""
    off, mine = list(official.parameters()), list(ours.parameters())
    if [p.shape for p in off] != [p.shape for p in mine]:
        raise ValueError(f'{prefix}: official parameters '
                         f'{[tuple(p.shape) for p in off]} do not match '
                         f'ours {[tuple(p.shape) for p in mine]}')
    with torch.no_grad():
        for a, b in zip(off, mine):
            a.copy_(b)
    return {
        f'{prefix}.{name}': pair
        for (name, _), pair in zip(ours.named_parameters(), zip(off, mine))
    }


def _inputs_json(x: dict, seed: int) -> dict:
    return dict(
        seed=seed,
        **x['shapes'],
        feature_values='ReLU(N(0, 1))',
        logit_values=f'N(0, {LOGIT_STD:g}^2)',
        labels_note='classes constant on 16x16 tiles of the crop, about '
        '10% of the tiles ignored (ours 255, official -1)',
        widths='the Cityscapes configs\': DeepLabV3-R18-D8 student decode '
        'feature 128 channels, DeepLabV3-R101-D8 teacher 512')


def _pixel_kd(kd, off: dict, ours: dict, teacher: dict, losses: dict,
              cfgs: dict) -> dict:
    return term(
        1.0 * kd.CriterionKD(temperature=1)(off['logits'], teacher['logits']),
        losses['loss_kl'], _student_leaves(off, ours, ['logits']),
        _args(cfgs, 'loss_kl', 'CriterionKD(temperature=1)', 1.0, KD_SOURCE))


def _result(files: Sequence[str],
            functions: Sequence[str],
            method: str,
            x: dict,
            seed: int,
            checks: dict,
            repository: str = CIRKD_REPO,
            cpu: str = 'no .cuda() call in these files; run unpatched',
            deviations: Optional[List[str]] = None) -> dict:
    return dict(
        official=dict(
            repository=repository,
            files=list(files),
            functions=list(functions),
            cpu=cpu),
        ours=dict(config=osp.relpath(CONFIG.format(method), ROOT)),
        inputs=_inputs_json(x, seed),
        checks=checks,
        deviations=deviations or [])


def _start(method: str, seed: int, size=CITYSCAPES['logits'], overrides=None):
    torch.manual_seed(seed)  # connectors' initial weights
    distiller = config_distiller(CONFIG.format(method), overrides)
    x = kd_inputs(seed, size)
    off, ours = _leaves(x)
    losses = run_config_losses(distiller, ours, x['teacher'], x['labels'])
    return distiller, x, off, ours, losses, _loss_cfgs(method)


CWD_DEVIATION = (
    'CWD on features through the 1x1 projection: the official '
    'CriterionCWD reads n, c from the student map before its projection '
    'and divides the summed KL by n * c_student (128); ours (MMRazor '
    'ChannelWiseDivergence) divides by the channels summed over, the '
    "teacher's 512 (the paper's mean over channels). So ours = official * "
    '128 / 512 on these widths (compared so: value and gradients equal '
    'to 1e-5), equal where the widths are equal (CIRKD\'s own 512-channel '
    'models, where the official code skips the projection: check '
    'cwd_feat_equal_widths). A plain bug, not copied; to reproduce the '
    'official scale on 128 -> 512, multiply loss_weight by 4.')


def check_cwd(root: str, seed: int = 0) -> dict:
    """CWD on features (50) and logits (3), T 4, + pixel KD (1), CIRKD
    ``scripts/train_kd/train_cwd.sh`` (``train_kd.py`` builds one
    ``CriterionCWD(s_channels, t_channels, 'channel', 'kl', 4.)``)."""
    cwd = load_module(root, 'losses/cwd.py')
    kd = load_module(root, 'losses/kd.py')
    distiller, x, off, ours, losses, cfgs = _start('cwd_feat', seed)
    t = x['teacher']
    c_s, c_t = CITYSCAPES['student_channels'], CITYSCAPES['teacher_channels']
    official = cwd.CriterionCWD(
        c_s, c_t, norm_type='channel', divergence='kl', temperature=4.)
    conv = _pair_params(official.conv, distiller.connectors['cwd_proj'],
                        'connector_cwd_proj')
    source = 'scripts/train_kd/train_cwd.sh --lambda-cwd-fea 50.'
    feat_args = _args(cfgs, 'loss_cwd_feat',
                      f"CriterionCWD({c_s}, {c_t}, 'channel', 'kl', 4.)", 50.,
                      source)
    feat_args['compared'] = f'ours vs official * {c_s} / {c_t}'
    g = torch.Generator().manual_seed(seed + 11)
    wide = F.relu(torch.randn(*t['feat'].shape, generator=g))
    wide_off, wide_ours = (wide.clone().requires_grad_(),
                           wide.clone().requires_grad_())
    wide_args = _args(cfgs, 'loss_cwd_feat',
                      f"CriterionCWD({c_t}, {c_t}, 'channel', 'kl', 4.)", 50.,
                      source)
    wide_args['student_feat'] = list(wide.shape)
    checks = dict(
        cwd_feat=term(
            50. * official(off['feat'], t['feat']),
            losses['loss_cwd_feat'],
            dict(_student_leaves(off, ours, ['feat']), **conv),
            feat_args,
            scale=c_s / c_t),
        cwd_feat_equal_widths=term(
            50. * cwd.CriterionCWD(c_t, c_t, 'channel', 'kl', 4.)(wide_off,
                                                                  t['feat']),
            distiller.distill_losses['loss_cwd_feat'](wide_ours, t['feat']),
            dict(student_feat=(wide_off, wide_ours)), wide_args),
        cwd_logits=term(
            3. * official(off['logits'], t['logits']),
            losses['loss_cwd_logits'], _student_leaves(off, ours, ['logits']),
            _args(cfgs, 'loss_cwd_logits', 'the same CriterionCWD', 3.,
                  'scripts/train_kd/train_cwd.sh --lambda-cwd-logit 3.')),
        pixel_kd=_pixel_kd(kd, off, ours, t, losses, cfgs))
    return _result(
        ['losses/cwd.py', 'losses/kd.py'],
        ['CriterionCWD.forward', 'ChannelNorm.forward', 'CriterionKD.forward'],
        'cwd_feat',
        x,
        seed,
        checks,
        deviations=[CWD_DEVIATION])


def _official_labels(labels: Tensor) -> Tensor:
    return labels.masked_fill(labels == CITYSCAPES['ignore_index'],
                              IGNORE_OFFICIAL)


@dataclasses.dataclass(frozen=True)
class FeatureMethod:
    """A feature term of the CIRKD repository plus pixel KD (1): one row of
    :data:`FEATURE_METHODS`, checked by :func:`check_feature_method`.

    Attributes:
        config (str): Ours: the config's method name (``'at_feat'``).
        file (str): The official file (``'losses/at.py'``).
        criterion (str): The official class in it.
        loss (str): Our loss's name in the config.
        weight (float): The official weight of the term.
        source (str): Where the official weight is set.
        connector (str, optional): Our connector's name, for a criterion
            built with the (student, teacher) channels whose ``conv`` is
            that connector. Defaults to None (no connector, no widths).
        kwargs (tuple): Other keyword arguments of the criterion.
        labels (bool): The criterion takes the labels (official ignore
            label).
    """
    config: str
    file: str
    criterion: str
    loss: str
    weight: float
    source: str
    connector: Optional[str] = None
    kwargs: Tuple[Tuple[str, object], ...] = ()
    labels: bool = False

    def call(self, c_s: int, c_t: int) -> str:
        """The official construction, for the JSON."""
        args = [str(c_s), str(c_t)] if self.connector else []
        args += [f'{k}={v}' for k, v in self.kwargs]
        return f'{self.criterion}({", ".join(args)})'


#: check name -> the method (AT, FitNet, SKD, IFVD of winycg/CIRKD's
#: ``scripts/train_kd/*.sh``)
FEATURE_METHODS = {
    'at':
    FeatureMethod('at_feat', 'losses/at.py', 'CriterionAT', 'loss_at', 10000.,
                  'scripts/train_kd/train_at.sh --lambda-at 10000.'),
    'fitnet':
    FeatureMethod(
        'fitnet_feat',
        'losses/fitnet.py',
        'CriterionFitNet',
        'loss_fitnet',
        10.,
        'scripts/train_kd/train_fitnet.sh --lambda-fitnet 10.',
        connector='fitnet_proj'),
    'skd':
    FeatureMethod('skd_feat', 'losses/skd.py', 'CriterionStructuralKD',
                  'loss_skd', 10.,
                  'scripts/train_kd/train_skd.sh --lambda-skd 10'),
    'ifvd':
    FeatureMethod(
        'ifvd_feat',
        'losses/ifvd.py',
        'CriterionIFV',
        'loss_ifvd',
        20.,
        'scripts/train_kd/train_ifvd.sh --lambda-ifv 20.',
        kwargs=(('classes', CITYSCAPES['classes']), ),
        labels=True),
}


def check_feature_method(name: str, root: str, seed: int = 0) -> dict:
    """One row of :data:`FEATURE_METHODS`: its feature term (the official
    1x1 convolution gets our connector's weights) and pixel KD (1).

    Args:
        name (str): The row (``'at'``, ``'fitnet'``, ``'skd'``,
            ``'ifvd'``).
        root (str): A checkout of winycg/CIRKD.
        seed (int): Seed of the inputs and initial weights. Defaults to 0.

    Returns:
        dict: The result (``checks``: ``name`` and ``pixel_kd``).
    """
    spec = FEATURE_METHODS[name]
    module = load_module(root, spec.file)
    kd = load_module(root, 'losses/kd.py')
    distiller, x, off, ours, losses, cfgs = _start(spec.config, seed)
    t = x['teacher']
    c_s, c_t = CITYSCAPES['student_channels'], CITYSCAPES['teacher_channels']
    widths = (c_s, c_t) if spec.connector else ()
    official = getattr(module, spec.criterion)(*widths, **dict(spec.kwargs))
    leaves = _student_leaves(off, ours, ['feat'])
    if spec.connector:
        leaves.update(
            _pair_params(official.conv, distiller.connectors[spec.connector],
                         f'connector_{spec.connector}'))
    labels = (_official_labels(x['labels']), ) if spec.labels else ()
    checks = {
        name:
        term(
            spec.weight * official(off['feat'], t['feat'], *labels),
            losses[spec.loss], leaves,
            _args(cfgs, spec.loss, spec.call(c_s, c_t), spec.weight,
                  spec.source)),
        'pixel_kd':
        _pixel_kd(kd, off, ours, t, losses, cfgs)
    }
    return _result([spec.file, 'losses/kd.py'],
                   [f'{spec.criterion}.forward', 'CriterionKD.forward'],
                   spec.config, x, seed, checks)


check_at = functools.partial(check_feature_method, 'at')
check_fitnet = functools.partial(check_feature_method, 'fitnet')
check_skd = functools.partial(check_feature_method, 'skd')
check_ifvd = functools.partial(check_feature_method, 'ifvd')


def check_dsd(root: str, seed: int = 0) -> dict:
    """DSD: pixel similarity (1000) over (aux logits, feature, logits) and
    category similarity (10), no pixel KD, CIRKD ``train_dsd.sh``."""
    dsd = load_module(root, 'losses/dsd.py')
    _, x, off, ours, losses, cfgs = _start('dsd_feat', seed)
    t = x['teacher']
    order = ['aux_logits', 'feat', 'logits']
    with cpu_cuda():
        psd, csd = dsd.CriterionDoubleSimKD()([off[k] for k in order],
                                              [t[k] for k in order])
    leaves = _student_leaves(off, ours, order)
    checks = dict(
        dsd_pixel=term(
            1000. * psd, losses['loss_psd'], leaves,
            _args(
                cfgs, 'loss_psd',
                'CriterionDoubleSimKD() pixel term, maps [aux, feat, '
                'logits] as train_kd.py', 1000.,
                'scripts/train_kd/train_dsd.sh --lambda-psd 1000.')),
        dsd_category=term(
            10. * csd, losses['loss_csd'], leaves,
            _args(cfgs, 'loss_csd', 'CriterionDoubleSimKD() category term',
                  10., 'scripts/train_kd/train_dsd.sh --lambda-csd 10.')))
    assert set(losses) == {'loss_psd', 'loss_csd'}, 'DSD has no pixel KD'
    return _result(['losses/dsd.py'], [
        'CriterionPSD.forward', 'CriterionCSD.forward',
        'CriterionDoubleSimKD.forward'
    ],
                   'dsd_feat',
                   x,
                   seed,
                   checks,
                   cpu='CriterionPSD calls torch.tensor(0.).cuda(): '
                   'Tensor.cuda made a no-op while it runs')


def check_dist(root: str, seed: int = 0) -> dict:
    """DIST on decode (1) and auxiliary logits (0.4), hunto/DIST_KD
    ``segmentation/train_kd.py``."""
    dist = load_module(root, 'segmentation/losses/dist_kd.py')
    _, x, off, ours, losses, cfgs = _start('dist_logits', seed)
    t = x['teacher']
    official = dist.DIST(beta=1., gamma=1.)
    source = ('segmentation/train_kd.py: kd_loss = lambda_kd * DIST(s[0], '
              't[0]) + 0.4 * lambda_kd * DIST(s[1], t[1]), --lambda-kd 1.')
    checks = dict(
        dist_decode=term(
            1.0 * official(off['logits'], t['logits']), losses['loss_dist'],
            _student_leaves(off, ours, ['logits', 'aux_logits']),
            _args(cfgs, 'loss_dist', 'DIST(beta=1., gamma=1.)', 1.0, source)),
        dist_aux=term(
            0.4 * official(off['aux_logits'], t['aux_logits']),
            losses['loss_dist_aux'],
            _student_leaves(off, ours, ['logits', 'aux_logits']),
            _args(cfgs, 'loss_dist_aux', 'DIST(beta=1., gamma=1.)', 0.4,
                  source)))
    assert set(losses) == {'loss_dist', 'loss_dist_aux'}, 'no pixel KD'
    return _result(
        ['segmentation/losses/dist_kd.py'],
        ['DIST.forward', 'inter_class_relation', 'intra_class_relation'],
        'dist_logits',
        x,
        seed,
        checks,
        repository=DIST_REPO)


# ---------------------------------------------------------------- CIRKD ----
#: CIRKD runs at a quarter of the Cityscapes feature size: its mini-batch
#: loss keeps 16 (hw x hw) similarity maps, 16 x 3 x 268 MB at 64 x 128.
CIRKD_SIZE = (32, 64)
PIXEL_MEMORY, REGION_MEMORY, UPDATE_FREQ = 20000, 2000, 16
CIRKD_DEVIATION = (
    'Pixel memory entries: the official _dequeue_and_enqueue takes '
    '`this_feat[:, perm[:K]]` with perm a permutation of range(num_pixel) '
    '(the class\'s pixel count), i.e. the pixels at raster positions '
    'below that count, of any class, where `this_feat[:, idxs[perm[:K]]]` '
    '(K random pixels of the class) is meant. The loss does not use an '
    "entry's class, but the memory then over-represents the top rows of "
    'each image. A plain bug, not copied: ours enqueues K random pixels of '
    'the class (pixel_memory_entries: the share of entries that are '
    'features of a pixel of their class). The compared contrast sets '
    "avoid this step's pixel slots; slots, pointers and the region "
    'memory are compared in full.')
MINI_BATCH_NOTE = (
    'winycg/CIRKD HEAD average-pools both features 4x4 when the feature '
    'is at least 256x256 (not at the configs\' 64x128, nor here); '
    'sunyueue/RDD (the loss its combination scripts use) has that pooling '
    'commented out; ours never pools.')


def _contrast_orders(seed: int) -> Dict[int, Tensor]:
    """The ``torch.randperm`` of each memory size: pixel slots written this
    step last, the fresh region slots first."""
    g = torch.Generator().manual_seed(seed + 7)
    written = CITYSCAPES['batch'] * UPDATE_FREQ
    images = CITYSCAPES['batch']
    return {
        PIXEL_MEMORY:
        torch.cat([
            written + torch.randperm(PIXEL_MEMORY - written, generator=g),
            torch.arange(written)
        ]),
        REGION_MEMORY:
        torch.cat([
            torch.arange(images),
            images + torch.randperm(REGION_MEMORY - images, generator=g)
        ])
    }


@contextlib.contextmanager
def fixed_randperm(orders: Dict[int, Tensor]) -> Iterator[None]:
    """``torch.randperm(n)`` returns ``orders[n]`` for those sizes."""
    real = torch.randperm

    def randperm(n, *args, **kwargs):
        if n in orders:
            return orders[n].to(kwargs.get('device'))
        return real(n, *args, **kwargs)

    torch.randperm = randperm
    try:
        yield
    finally:
        torch.randperm = real


def _per_class_difference(official: Tensor, ours: Tensor) -> dict:
    """:func:`difference` of two (C, M, D) memories, one class at a time
    (a float64 copy of a whole 0.78 GB memory would need several GB)."""
    parts = [difference(a, b) for a, b in zip(official, ours)]
    scale = max(float(a.abs().max()) for a in official)
    max_abs = max(p['max_abs'] for p in parts)
    return dict(max_abs=max_abs, max_rel=max_abs / scale)


def _class_share(queue: Tensor, ptr_slots: Tensor, feat: Tensor,
                 labels: Tensor) -> float:
    """Share of the written entries (slots below each class's pointer
    after one step from 0) that are a normalised feature of a pixel of
    their class."""
    emb = F.normalize(feat.detach().float(), dim=1).permute(0, 2, 3, 1)
    hits = total = 0
    for c in range(queue.shape[0]):
        mine = emb[labels == c]
        for slot in range(int(ptr_slots[c])):
            total += 1
            if len(mine) and (mine -
                              queue[c, slot]).abs().max(1).values.min() < 1e-5:
                hits += 1
    return hits / max(total, 1)


def check_cirkd(root: str, seed: int = 0) -> dict:
    """CIRKD: pixel KD (1), mini-batch pixel-to-pixel (1), memory
    pixel-to-pixel (0.1) and pixel-to-region (0.1) through the projection
    head, memories 20000 / 2000, contrast 4096 // 19 + 1 / 1024 // 19 + 1
    per class, temperatures 0.1 / 1."""
    kd = load_module(root, 'losses/kd.py')
    mini = load_module(root, 'losses/cirkd_mini_batch.py')
    memory = load_module(root, 'losses/cirkd_memory.py')
    # initial weights and memories; the pixels each code enqueues
    torch.manual_seed(seed)
    distiller = config_distiller(CONFIG.format('cirkd_feat'))
    cfgs = _loss_cfgs('cirkd_feat')
    pixel = distiller.distill_losses['loss_cirkd_pixel']
    region = distiller.distill_losses['loss_cirkd_region']
    k, c_s = CITYSCAPES['classes'], CITYSCAPES['student_channels']
    c_t = CITYSCAPES['teacher_channels']
    official_memory = memory.StudentSegContrast(
        num_classes=k,
        pixel_memory_size=PIXEL_MEMORY,
        region_memory_size=REGION_MEMORY,
        region_contrast_size=1024 // k + 1,
        pixel_contrast_size=4096 // k + 1,
        contrast_kd_temperature=1.0,
        contrast_temperature=0.1,
        s_channels=c_s,
        t_channels=c_t,
        ignore_label=IGNORE_OFFICIAL)
    official_memory.concat_all_gather = lambda tensor: tensor
    proj = _pair_params(official_memory.project_head,
                        distiller.connectors['cirkd_proj'],
                        'connector_cirkd_proj')
    with torch.no_grad():
        pixel.queue.copy_(official_memory.teacher_pixel_queue)
        region.queue.copy_(official_memory.teacher_segment_queue)
    x = kd_inputs(seed, CIRKD_SIZE)
    off, ours = _leaves(x)
    t, labels = x['teacher'], x['labels']
    official_labels = _official_labels(labels)
    with cpu_cuda(), fixed_randperm(_contrast_orders(seed)):
        losses = run_config_losses(distiller, ours, t, labels)
        batch = mini.CriterionMiniBatchCrossImagePair(temperature=0.1)(
            off['feat'], t['feat'])
        pix, reg = official_memory(
            off['feat'], t['feat'], official_labels, predict=official_labels)
    feat = _student_leaves(off, ours, ['feat'])
    small = F.interpolate(
        labels[:, None].float(), CIRKD_SIZE, mode='nearest')[:, 0].long()
    checks = dict(
        mini_batch=term(
            1.0 * batch, losses['loss_cirkd_batch'], feat,
            _args(cfgs, 'loss_cirkd_batch',
                  'CriterionMiniBatchCrossImagePair(temperature=0.1)', 1.0,
                  CIRKD_SOURCE + ': --lambda-minibatch-pixel 1.')),
        memory_pixel=term(
            0.1 * pix, losses['loss_cirkd_pixel'], dict(feat, **proj),
            _args(cfgs, 'loss_cirkd_pixel',
                  'StudentSegContrast(...) first output', 0.1,
                  CIRKD_SOURCE + ': --lambda-memory-pixel 0.1')),
        memory_region=term(
            0.1 * reg, losses['loss_cirkd_region'], dict(feat, **proj),
            _args(cfgs, 'loss_cirkd_region',
                  'StudentSegContrast(...) second output', 0.1,
                  CIRKD_SOURCE + ': --lambda-memory-region 0.1')),
        pixel_kd=_pixel_kd(kd, off, ours, t, losses, cfgs),
        memories_after_step=dict(
            region_queue=difference(official_memory.teacher_segment_queue,
                                    region.queue),
            region_ptr=difference(official_memory.segment_queue_ptr.float(),
                                  region.ptr.float()),
            pixel_ptr=difference(official_memory.pixel_queue_ptr.float(),
                                 pixel.ptr.float()),
            pixel_queue_unwritten_slots=_per_class_difference(
                official_memory.teacher_pixel_queue[:, 4 * UPDATE_FREQ:],
                pixel.queue[:, 4 * UPDATE_FREQ:])),
        pixel_memory_entries=dict(
            official_share_of_class_pixels=_class_share(
                official_memory.teacher_pixel_queue,
                official_memory.pixel_queue_ptr, t['feat'], small),
            ours_share_of_class_pixels=_class_share(pixel.queue, pixel.ptr,
                                                    t['feat'], small)))
    result = _result([
        'losses/cirkd_mini_batch.py', 'losses/cirkd_memory.py', 'losses/kd.py'
    ], [
        'CriterionMiniBatchCrossImagePair.forward',
        'StudentSegContrast.forward',
        'StudentSegContrast._dequeue_and_enqueue',
        'StudentSegContrast._sample_negative', 'CriterionKD.forward'
    ],
                     'cirkd_feat',
                     x,
                     seed,
                     checks,
                     cpu='torch.tensor(0.).cuda() and .cuda() in '
                     '_sample_negative: Tensor.cuda made a no-op; '
                     'concat_all_gather (torch.distributed all_gather) '
                     'replaced by the identity (one process); '
                     'nn.SyncBatchNorm of the projection head runs as '
                     'BatchNorm in one process, ours as BN',
                     deviations=[CIRKD_DEVIATION, MINI_BATCH_NOTE])
    result['inputs'].update(
        memories=dict(pixel=PIXEL_MEMORY, region=REGION_MEMORY),
        random_draws='contrast slots: torch.randperm of each memory size '
        "fixed (the same for both): this step's pixel slots last, the "
        'fresh region slots first')
    return result
