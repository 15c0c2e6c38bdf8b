# RDD + Af-DCD: pixel KD (1), masked feature mimicking (2e-6) and
# omni-contrast (0.005) on the backbone's last feature:
# TFE for 4k iterations, then TSE-XOR, re-weight the task loss; the
# method's losses are added unchanged. DeepLabV3-R101-D8 -> DeepLabV3-R18-D8,
# Cityscapes 512x1024, 4 GPUs x 4 crops, 40k iterations. Weights and inputs:
# configs/_base_/distill/kd_family/afdcd.py.
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
    '../_base_/distill/kd_family/afdcd.py',
]
model = dict(architecture=_base_.student, distiller=_base_.kd_distiller)
