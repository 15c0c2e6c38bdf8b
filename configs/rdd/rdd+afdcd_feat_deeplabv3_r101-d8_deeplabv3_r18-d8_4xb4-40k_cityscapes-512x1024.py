# RDD + Af-DCD: pixel KD (1), masked feature mimicking (2e-6) and
# omni-contrast (0.005) on the backbone's last feature:
# TFE for 4k iterations, then TSE-XOR, re-weight the task loss; the
# method's losses are added unchanged. DeepLabV3-R101-D8 -> DeepLabV3-R18-D8,
# Cityscapes 512x1024, 4 GPUs x 4 crops, 40k iterations. Weights and inputs:
# configs/_base_/distill/kd_family/afdcd.py.
_base_ = [
    './rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py',  # noqa: E501
    '../_base_/distill/kd_family/afdcd.py',
]
model = dict(distiller=_base_.kd_distiller)
