# Pixel KD alone (the baseline of RDD): KL(P(T) || P(S)) per pixel, T=1,
# weight 1, on the decode-head logits; the student's task loss unweighted.
_base_ = ['../_base_/distill/toy_rdd.py']
model = dict(
    distiller=dict(
        _delete_=True, type='ConfigurableDistiller', **_base_.pixel_kd))
custom_hooks = []
