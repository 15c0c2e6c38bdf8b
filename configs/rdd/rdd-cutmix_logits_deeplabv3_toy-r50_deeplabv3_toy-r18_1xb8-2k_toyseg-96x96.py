# Toy RDD + pixel KD with teacher-labelled CutMix (Wang et al., "Knowledge
# Distillation Thrives on Data Augmentation", arXiv 2012.02909; an mmrdd
# option, off elsewhere): the algorithm's data preprocessor pastes, in half
# of the samples, a box (area ~ Beta(1, 1)) from another sample of the batch,
# into the image and its labels. It runs before the teacher and the student,
# so the KD targets and the RDD difficulty follow the mixed images. Boxes
# come from torch's global RNG, seeded by randomness=dict(seed=0) of the toy
# runtime (seed=<int> would use a private generator seeded with seed + rank).
# MMSeg 1.2.2's own SegDataPreProcessor cannot run a batch_augments list;
# BatchAugSegDataPreProcessor can and is otherwise identical.
_base_ = [
    '../_base_/distill/toy_rdd.py',
]
model = dict(
    data_preprocessor=dict(
        _base_.model.architecture.data_preprocessor,
        type='mmseg.BatchAugSegDataPreProcessor',
        batch_augments=[
            dict(type='SegCutMix', prob=0.5, alpha=1.0, seed=None)
        ]))
