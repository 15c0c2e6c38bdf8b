# RDD + pixel KD with CutMixPick (Wang et al., NeurIPS 2022, arXiv
# 2012.02909; an mmrdd option): DeepLabV3-R101-D8 -> DeepLabV3-R18-D8,
# Cityscapes 512x1024. Each step the teacher runs on pool=2 CutMix copies of
# the GPU batch (8 crops) without gradient and the student trains on the 4
# with the highest mean per-pixel teacher entropy, with the kept crops'
# teacher logits. Costs a second teacher pass per step (see the README's
# picking costs). Not a configuration of the RDD paper.
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
    '../_base_/distill/cutmixpick.py',
]
model = dict(architecture=_base_.student, picker=_base_.cutmixpick)
