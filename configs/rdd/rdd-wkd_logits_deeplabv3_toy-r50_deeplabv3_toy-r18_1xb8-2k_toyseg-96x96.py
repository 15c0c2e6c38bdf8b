# Toy RDD + pixel KD weighted by the difficulty map (an mmrdd extension, not
# in the paper): the TFE weight, then the share of TSE-selected pixels per
# logit cell (normalised to mean 1), also weights the KL of the decode-head
# logits. The task loss is re-weighted as in plain RDD.
_base_ = [
    '../_base_/distill/toy_rdd.py',
]
model = dict(distiller=dict(weighted_losses=['loss_kl']))
