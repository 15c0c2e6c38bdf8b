# Pixel KD alone (the baseline of RDD): KL(P(T) || P(S)) per pixel, T=1,
# weight 1, on the decode-head logits, one stage (no RDD):
# DeepLabV3-R101-D8 -> DeepLabV3-R18-D8, Cityscapes 512x1024, 4 GPUs x 4
# crops, 40k iterations; the student's task loss is unweighted. The
# one-stage <method>_*_cityscapes-512x1024 configs of the KD family share
# its setting (configs/_base_/distill/cityscapes_kd.py).
_base_ = [
    '../_base_/distill/cityscapes_kd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
]
model = dict(architecture=_base_.student)
