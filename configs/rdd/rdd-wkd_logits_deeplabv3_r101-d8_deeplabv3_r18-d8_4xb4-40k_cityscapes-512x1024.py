# RDD + pixel KD weighted by the difficulty map (an mmrdd extension, not in
# the paper): the TFE weight w, then the share of TSE-selected pixels per
# logit cell (normalised to mean 1), also weights the KL of the decode-head
# logits. The task loss is re-weighted as in plain RDD.
_base_ = [
    './rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py'  # noqa: E501
]  # noqa: E501

model = dict(distiller=dict(weighted_losses=['loss_kl']))
