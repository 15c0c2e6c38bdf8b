# CWD on features (T 4, weight 50) and logits
# (T 4, weight 3) + pixel KD (1),
# one stage (no RDD): DeepLabV3-R101-D8 -> DeepLabV3-R18-D8, Cityscapes
# 512x1024, 4 GPUs x 4 crops, 40k iterations; the student's task loss is
# unweighted. Weights and inputs: configs/_base_/distill/kd_family/cwd.py.
_base_ = [
    '../_base_/distill/cityscapes_kd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
    '../_base_/distill/kd_family/cwd.py',
]
model = dict(architecture=_base_.student, distiller=_base_.kd_distiller)
