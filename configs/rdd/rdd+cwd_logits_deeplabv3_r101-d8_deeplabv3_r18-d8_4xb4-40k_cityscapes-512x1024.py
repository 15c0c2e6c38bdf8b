# RDD + pixel KD + CWD on the decode-head logits (tau 1, weight 3 as in
# MMRazor's CWD Cityscapes config): the RDD weights still re-weight the task
# loss only; CWD is added unchanged.
_base_ = [
    './rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py',  # noqa: E501
    '../_base_/distill/cwd_logits.py',
]
model = dict(distiller=_base_.kd_distiller)
