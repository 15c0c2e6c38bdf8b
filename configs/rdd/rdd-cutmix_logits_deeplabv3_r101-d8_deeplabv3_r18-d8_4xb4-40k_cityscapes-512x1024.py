# RDD + pixel KD with teacher-labelled CutMix (Wang et al., arXiv
# 2012.02909; an mmrdd option): DeepLabV3-R101-D8 -> DeepLabV3-R18-D8,
# Cityscapes 512x1024. Half of the crops get a box (area ~ Beta(1, 1)) from
# another crop of the GPU batch, in the image and its labels; the teacher
# and the student see the mixed crops. Not a configuration of the RDD paper.
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
]
# MMSeg's Cityscapes normalisation, padding and crop size.
model = dict(
    architecture=_base_.student,
    data_preprocessor=dict(
        type='mmseg.BatchAugSegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(512, 1024),
        batch_augments=[
            dict(type='SegCutMix', prob=0.5, alpha=1.0, seed=None)
        ]))
