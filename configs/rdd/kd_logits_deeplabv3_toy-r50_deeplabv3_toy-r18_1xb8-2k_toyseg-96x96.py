# Pixel KD alone (the baseline of RDD): KL(P(T) || P(S)) per pixel, T=1,
# weight 1, on the decode-head logits, one stage (no RDD), on the toy data
# set (toy DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 2k
# iterations); the student's task loss unweighted. The one-stage toy configs
# of the KD family share its setting (configs/_base_/distill/toy_kd.py).
_base_ = [
    '../_base_/distill/toy_kd.py',
]
