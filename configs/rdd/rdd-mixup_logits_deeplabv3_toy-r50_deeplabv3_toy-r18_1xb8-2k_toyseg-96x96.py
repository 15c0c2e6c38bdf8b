# Toy RDD + pixel KD with teacher-labelled mixup (Zhang et al., ICLR 2018;
# for KD: Wang et al., arXiv 2012.02909; an mmrdd option, off elsewhere):
# half of the samples become lam * x_i + (1 - lam) * x_j, one
# lam ~ Beta(1, 1) per batch. The teacher labels the blend (KD targets, RDD
# difficulty); the task loss is lam * L(y_i) + (1 - lam) * L(y_j), each term
# the student head's own loss with its RDD weights (RDDMixedLabelLoss, which
# FrozenTeacherDistill installs because SegMixup keeps both maps).
# The same BatchAugSegDataPreProcessor as the toy CutMix config, with
# SegMixup in place of SegCutMix.
_base_ = [
    './rdd-cutmix_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
]  # noqa: E501

# (lists are replaced, not merged)
model = dict(
    data_preprocessor=dict(
        batch_augments=[dict(type='SegMixup', prob=0.5, alpha=1.0, seed=None)
                        ]))
