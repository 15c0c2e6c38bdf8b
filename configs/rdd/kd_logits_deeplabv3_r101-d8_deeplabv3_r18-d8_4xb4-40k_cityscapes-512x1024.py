# Pixel KD alone (the baseline of RDD): KL(P(T) || P(S)) per pixel, T=1,
# weight 1, on the decode-head logits, one stage (no RDD):
# DeepLabV3-R101-D8 -> DeepLabV3-R18-D8, Cityscapes 512x1024, 4 GPUs x 4
# crops, 40k iterations; the student's task loss is unweighted. Also the
# base of the one-stage <method>_*_cityscapes-512x1024 configs of the KD
# family (configs/_base_/distill/kd_family/).
_base_ = [
    './rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py'  # noqa: E501
]
model = dict(
    distiller=dict(
        _delete_=True, type='ConfigurableDistiller', **_base_.pixel_kd))
custom_hooks = []
