# Pixel KD alone (the baseline of RDD) on Cityscapes: the setting of
# ./cityscapes_rdd.py (data, schedule, runtime, the DeepLabV3-R101-D8
# teacher) with MMRazor's plain ConfigurableDistiller running the pixel KD
# of ./rdd_logits.py (KL(P(T) || P(S)) per pixel, T=1, weight 1, on the
# decode-head logits); no RDD, so no RDD hooks and the student's task loss
# unweighted. The one-stage configs of the KD family add their method:
#     _base_ = ['../_base_/distill/cityscapes_kd.py',
#               '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
#               '../_base_/distill/kd_family/<method>.py']
#     model = dict(architecture=_base_.student, distiller=_base_.kd_distiller)
_base_ = ['./cityscapes_rdd.py']
model = dict(
    distiller=dict(
        _delete_=True, type='ConfigurableDistiller', **_base_.pixel_kd))
custom_hooks = []
