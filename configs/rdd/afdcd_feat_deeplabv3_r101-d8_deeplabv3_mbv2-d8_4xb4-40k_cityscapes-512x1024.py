# Af-DCD: pixel KD (1), masked feature mimicking (2e-6) and omni-contrast
# (0.005) on the backbone's last feature (320 channels), one stage (no RDD):
# DeepLabV3-R101-D8 -> DeepLabV3-MobileNetV2-D8, Cityscapes 512x1024, 4 GPUs
# x 4 crops, 40k iterations; the student's task loss is unweighted. Weights
# and inputs: configs/_base_/distill/kd_family/afdcd.py (kd_distiller_mbv2).
_base_ = [
    '../_base_/distill/cityscapes_kd.py',
    '../_base_/distill/students/deeplabv3_mbv2-d8_cityscapes.py',
    '../_base_/distill/kd_family/afdcd.py',
]
model = dict(architecture=_base_.student, distiller=_base_.kd_distiller_mbv2)
