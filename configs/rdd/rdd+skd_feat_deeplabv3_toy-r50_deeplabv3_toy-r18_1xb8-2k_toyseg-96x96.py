# Toy RDD + SKD pair-wise similarity (10) + pixel KD (1):
# TFE for 200 iterations, then TSE-XOR, on the toy data set (toy
# DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 2k iterations).
# Weights and inputs: configs/_base_/distill/kd_family/skd.py.
_base_ = [
    '../_base_/distill/toy_rdd.py',
    '../_base_/distill/kd_family/skd.py',
]
model = dict(distiller=_base_.kd_distiller)
