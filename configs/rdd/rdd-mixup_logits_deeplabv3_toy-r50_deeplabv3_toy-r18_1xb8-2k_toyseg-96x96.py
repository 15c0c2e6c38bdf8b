# Toy RDD + pixel KD with teacher-labelled mixup (Zhang et al., ICLR 2018;
# for KD: Wang et al., arXiv 2012.02909; an mmrdd option, off elsewhere):
# half of the samples become lam * x_i + (1 - lam) * x_j, one
# lam ~ Beta(1, 1) per batch. The teacher labels the blend (KD targets, RDD
# difficulty); the task loss is lam * L(y_i) + (1 - lam) * L(y_j), each term
# the student head's own loss with its RDD weights (MixedLabelLoss, which
# FrozenTeacherDistill uses because SegMixup keeps both maps).
# The same BatchAugSegDataPreProcessor as the toy CutMix config, with
# SegMixup in place of SegCutMix.
_base_ = [
    '../_base_/distill/toy_rdd.py',
]
model = dict(
    data_preprocessor=dict(
        _base_.model.architecture.data_preprocessor,
        type='mmseg.BatchAugSegDataPreProcessor',
        batch_augments=[dict(type='SegMixup', prob=0.5, alpha=1.0, seed=None)
                        ]))
