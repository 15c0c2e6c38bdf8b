# RDD (TFE 4k iterations, then TSE-XOR) + pixel KD:
# DeepLabV3-R101-D8 teacher -> deeplabv3_mbv2-d8 student, Cityscapes 512x1024.
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_mbv2-d8_cityscapes.py',
]
model = dict(architecture=_base_.student)
