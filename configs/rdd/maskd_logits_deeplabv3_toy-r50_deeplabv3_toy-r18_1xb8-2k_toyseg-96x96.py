# Toy MasKD on decode (1) and auxiliary (0.4) logits, no pixel KD, one
# stage (no RDD), on the toy data set (toy DeepLabV3 R50 -> R18, 1 process
# x 8 crops of 96x96, 2k iterations), with the tokens of the toy stage 1.
# Weights and inputs: configs/_base_/distill/kd_family/maskd.py; tokens:
# configs/_base_/distill/kd_family/maskd_toy.py.
_base_ = [
    '../_base_/distill/toy_kd.py',
    '../_base_/distill/kd_family/maskd_toy.py',
]
model = dict(distiller=_base_.kd_distiller)
