# KT: logit KD (CWD, T 4, decode head 1: the official MobileNetV2 student has
# no auxiliary head), logit tailoring (1), feature tailoring (1) and its
# triplet contrast (1), one stage (no RDD): DeepLabV3-R101-D8 ->
# DeepLabV3-MobileNetV2-D8, Cityscapes 512x1024, 4 GPUs x 4 crops, 40k
# iterations, weight decay 5e-4 (KT's train_KT.py); the student's task loss is
# unweighted. Weights and inputs: configs/_base_/distill/kd_family/kt.py
# (kd_distiller_mbv2).
_base_ = [
    '../_base_/distill/cityscapes_kd.py',
    '../_base_/distill/students/deeplabv3_mbv2-d8_cityscapes.py',
    '../_base_/distill/kd_family/kt.py',
]
model = dict(architecture=_base_.student, distiller=_base_.kd_distiller_mbv2)
optim_wrapper = _base_.kt_optim_wrapper
