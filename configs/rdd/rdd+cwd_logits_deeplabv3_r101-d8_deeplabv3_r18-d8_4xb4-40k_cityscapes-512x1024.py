# RDD + pixel KD + CWD on the decode-head logits (tau 1, weight 3 as in
# MMRazor's CWD Cityscapes config): the RDD weights still re-weight the task
# loss only; CWD is added unchanged.
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
    '../_base_/distill/cwd_logits.py',
]
model = dict(architecture=_base_.student, distiller=_base_.kd_distiller)
