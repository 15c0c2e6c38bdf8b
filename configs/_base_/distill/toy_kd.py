# Pixel KD alone (the baseline of RDD) on the toy data set: the setting and
# the toy DeepLabV3 pair of ./toy_rdd.py with MMRazor's plain
# ConfigurableDistiller running the pixel KD of ./rdd_logits.py
# (KL(P(T) || P(S)) per pixel, T=1, weight 1, on the decode-head logits); no
# RDD, so no RDD hooks and the student's task loss unweighted. The one-stage
# toy configs of the KD family add their method:
#     _base_ = ['../_base_/distill/toy_kd.py',
#               '../_base_/distill/kd_family/<method>.py']
#     model = dict(distiller=_base_.kd_distiller_toy)
_base_ = ['./toy_rdd.py']
model = dict(
    distiller=dict(
        _delete_=True, type='ConfigurableDistiller', **_base_.pixel_kd))
custom_hooks = []
