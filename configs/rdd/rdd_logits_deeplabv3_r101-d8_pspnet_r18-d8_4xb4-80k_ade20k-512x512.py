# RDD (TFE 8k iterations, then TSE-XOR) + pixel KD:
# DeepLabV3-R101-D8 teacher -> pspnet_r18-d8 student, ADE20K 512x512.
_base_ = [
    '../_base_/distill/ade20k_rdd.py',
    '../_base_/distill/students/pspnet_r18-d8.py'
]
model = dict(architecture=_base_.student)
