# Toy RDD + pixel KD + CWD on the decode-head logits (tau 1, weight 3 as in
# the Cityscapes rdd+cwd config): the RDD weights still re-weight the task
# loss only; CWD is added unchanged.
_base_ = [
    '../_base_/distill/toy_rdd.py',
    '../_base_/distill/cwd_logits.py',
]
model = dict(distiller=_base_.kd_distiller)
