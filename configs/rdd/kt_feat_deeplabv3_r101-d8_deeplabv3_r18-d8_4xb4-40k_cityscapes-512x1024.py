# KT: logit KD (CWD, T 4: decode head 1, auxiliary head 0.4), logit tailoring
# (1), feature tailoring (1) and its triplet contrast (1), one stage (no RDD):
# DeepLabV3-R101-D8 -> DeepLabV3-R18-D8, Cityscapes 512x1024, 4 GPUs x 4 crops,
# 40k iterations, weight decay 5e-4 (KT's train_KT.py); the student's task loss
# is unweighted. Weights and inputs: configs/_base_/distill/kd_family/kt.py
# (kd_distiller).
_base_ = [
    './kd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py',  # noqa: E501
    '../_base_/distill/kd_family/kt.py',
]
model = dict(distiller=_base_.kd_distiller)
optim_wrapper = _base_.kt_optim_wrapper
