# Toy RDD + Af-DCD: pixel KD (1), masked feature mimicking (2e-6) and
# omni-contrast (0.005) on the backbone's last feature, the R18 student's
# central mask and enhanced projector: TFE for 200 iterations, then TSE-XOR, on
# the toy data set (toy DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 2k
# iterations). Weights, inputs and toy sizes (channels 128 -> 512, 12x12
# features max-pooled by 3 to one 4x4 patch): kd_distiller_toy of
# configs/_base_/distill/kd_family/afdcd.py.
_base_ = [
    '../_base_/distill/toy_rdd.py',
    '../_base_/distill/kd_family/afdcd.py',
]
model = dict(distiller=_base_.kd_distiller_toy)
