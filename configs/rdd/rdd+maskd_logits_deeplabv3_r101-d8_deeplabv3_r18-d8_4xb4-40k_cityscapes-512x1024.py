# RDD + MasKD on decode (1) and auxiliary (0.4) logits, no pixel KD:
# TFE for 4k iterations, then TSE-XOR, re-weight the task loss; the
# method's losses are added unchanged. DeepLabV3-R101-D8 -> DeepLabV3-R18-D8,
# Cityscapes 512x1024, 4 GPUs x 4 crops, 40k iterations. Train the tokens
# first (stage 1):
#   tools/dist_train.sh configs/rdd/maskd-tokens_deeplabv3_r101-d8_4xb4-10k_cityscapes-512x1024.py 4  # noqa: E501
# Weights and inputs: configs/_base_/distill/kd_family/maskd.py.
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
    '../_base_/distill/kd_family/maskd.py',
]
model = dict(architecture=_base_.student, distiller=_base_.kd_distiller)
