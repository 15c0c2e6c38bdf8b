# RDD + pixel KD weighted by the difficulty map (an mmrdd extension, not in
# the paper): the TFE weight w, then the share of TSE-selected pixels per
# logit cell (normalised to mean 1), also weights the KL of the decode-head
# logits. The task loss is re-weighted as in plain RDD.
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_r18-d8_cityscapes.py',
]
model = dict(
    architecture=_base_.student, distiller=dict(weighted_losses=['loss_kl']))
