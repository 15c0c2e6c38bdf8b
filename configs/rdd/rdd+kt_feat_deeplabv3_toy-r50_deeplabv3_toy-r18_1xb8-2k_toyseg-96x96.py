# Toy RDD + KT: logit KD (CWD, T 4: decode head 1, auxiliary head 0.4), logit
# tailoring (1), feature tailoring (1) and its triplet contrast (1): TFE for
# 200 iterations, then TSE-XOR, on the toy data set (toy DeepLabV3 R50 -> R18,
# 1 process x 8 crops of 96x96, 2k iterations); the toy schedule's weight
# decay. Weights, inputs and toy sizes (features of 32 -> 64 channels, the
# teacher tailored from iteration 500): kd_distiller_toy of
# configs/_base_/distill/kd_family/kt.py.
_base_ = [
    '../_base_/distill/toy_rdd.py',
    '../_base_/distill/kd_family/kt.py',
]
model = dict(distiller=_base_.kd_distiller_toy)
