# Copyright (c) mmrdd contributors. All rights reserved.
"""SegCutMix / BatchAugSegDataPreProcessor: MMSeg batch-augmentation glue."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmrdd  # noqa: F401
from mmrdd.functional.cutmix import seg_cutmix
from mmrdd.models import BatchAugSegDataPreProcessor, SegCutMix

N, H, W = 4, 16, 24


def samples(seed=0, edge=False):
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(N):
        s = SegDataSample()
        lab = torch.randint(0, 7, (1, H, W), generator=g)
        lab[:, :3] = 255
        s.gt_sem_seg = PixelData(data=lab)
        if edge:
            s.gt_edge_map = PixelData(data=(lab > 3).to(torch.uint8))
        out.append(s)
    return out


def images(seed=0):
    return torch.randn(
        N, 3, H, W, generator=torch.Generator().manual_seed(seed))


def test_matches_the_pure_function():
    aug = MODELS.build(dict(type='SegCutMix', prob=1.0, seed=3))
    x, ds = images(), samples()
    labels = torch.stack([s.gt_sem_seg.data for s in ds])
    mixed, ds = aug(x.clone(), ds)
    ref = seg_cutmix(
        x, labels, prob=1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(mixed, ref.inputs)
    assert torch.equal(
        torch.stack([s.gt_sem_seg.data for s in ds]), ref.labels)
    assert ds[0].gt_sem_seg.data.shape == (1, H, W)


def test_other_seg_fields_share_the_boxes():
    aug = SegCutMix(prob=1.0, seed=0, seg_keys=('gt_sem_seg', 'gt_edge_map'))
    _, ds = aug(images(), samples(edge=True))
    for s in ds:
        assert torch.equal(s.gt_edge_map.data,
                           (s.gt_sem_seg.data > 3).to(torch.uint8))


def test_seeded_and_off():
    a = SegCutMix(prob=0.5, seed=1)
    b = SegCutMix(prob=0.5, seed=1)
    for step in range(3):
        xa, _ = a(images(step), samples(step))
        xb, _ = b(images(step), samples(step))
        assert torch.equal(xa, xb)
    x, ds = images(), samples()
    before = [s.gt_sem_seg.data.clone() for s in ds]
    y, ds = SegCutMix(prob=0.0)(x, ds)
    assert y is x
    assert all(torch.equal(s.gt_sem_seg.data, b) for s, b in zip(ds, before))
    with pytest.raises(ValueError):
        SegCutMix(prob=2)
    with pytest.raises(ValueError):
        SegCutMix(alpha=0)
    with pytest.raises(TypeError):
        SegCutMix(seed=1.5)


def test_preprocessor_runs_batch_augments_in_training_only():
    pre = MODELS.build(
        dict(
            type='BatchAugSegDataPreProcessor',
            mean=[0., 0., 0.],
            std=[1., 1., 1.],
            size=(H, W),
            batch_augments=[dict(type='SegCutMix', prob=1.0, seed=0)]))
    assert isinstance(pre, BatchAugSegDataPreProcessor)
    imgs = [(torch.rand(3, H, W) * 255).to(torch.uint8) for _ in range(N)]
    data = dict(inputs=imgs, data_samples=samples())
    out = pre(dict(inputs=list(imgs), data_samples=samples()), training=True)
    ref = seg_cutmix(
        torch.stack(imgs).float(),
        torch.stack([s.gt_sem_seg.data for s in samples()]),
        prob=1.0,
        generator=torch.Generator().manual_seed(0))
    assert torch.equal(out['inputs'], ref.inputs)
    assert torch.equal(
        torch.stack([s.gt_sem_seg.data for s in out['data_samples']]),
        ref.labels)
    test = pre(data, training=False)
    assert torch.equal(test['inputs'], torch.stack(imgs).float())
    # without batch_augments it is MMSeg's preprocessor
    plain = BatchAugSegDataPreProcessor(mean=[0., 0., 0.], std=[1., 1., 1.])
    assert plain.batch_augments is None


def test_teacher_and_student_see_the_mixed_batch():
    """In FrozenTeacherDistill the algorithm's preprocessor mixes once;
    the recorded teacher logits are those of the mixed images."""
    from _toy_models import augmented_rdd, batch
    model = augmented_rdd(
        dict(type='SegCutMix', prob=1.0, seed=0), stage='tfe')
    inputs, ds = batch(n=3)
    labels = torch.stack([s.gt_sem_seg.data for s in ds])
    ref = seg_cutmix(
        inputs, labels, prob=1.0, generator=torch.Generator().manual_seed(0))
    assert ref.masks.any()
    data = model.data_preprocessor(
        dict(inputs=list(inputs), data_samples=ds), training=True)
    assert torch.equal(data['inputs'], ref.inputs)
    losses = model(**data, mode='loss')
    assert all(
        torch.isfinite(v).all() for v in losses.values()
        if isinstance(v, torch.Tensor))
    with torch.no_grad():
        t = model.teacher
        expected = t.decode_head(t.extract_feat(ref.inputs))
    recorded = model.distiller.get_record('logits', from_student=False)
    torch.testing.assert_close(recorded, expected)
