# Toy RDD + DSD: pixel similarity (1000) + category
# similarity (10), no pixel KD:
# TFE for 100 iterations, then TSE-XOR, on the toy data set (toy
# DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 1k iterations).
# Weights and inputs: configs/_base_/distill/kd_family/dsd.py.
_base_ = [
    './rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
    '../_base_/distill/kd_family/dsd.py',
]
model = dict(distiller=_base_.kd_distiller)
