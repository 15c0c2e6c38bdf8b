# RDD + KT: logit KD (CWD, T 4: decode head 1, auxiliary head 0.4), logit
# tailoring (1), feature tailoring (1) and its triplet contrast (1): TFE for 4k
# iterations, then TSE-XOR, re-weight the task loss; the method's losses are
# added unchanged. DeepLabV3-R101-D8 -> DeepLabV3-R18-D8, Cityscapes 512x1024,
# 4 GPUs x 4 crops, 40k iterations, weight decay 5e-4 (KT's train_KT.py).
# Weights and inputs: configs/_base_/distill/kd_family/kt.py (kd_distiller).
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
    '../_base_/distill/kd_family/kt.py',
]
model = dict(architecture=_base_.student, distiller=_base_.kd_distiller)
optim_wrapper = _base_.kt_optim_wrapper
