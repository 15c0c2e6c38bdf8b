# Toy RDD + MasKD on decode (1) and auxiliary (0.4) logits, no pixel KD:
# TFE for 200 iterations, then TSE-XOR, on the toy data set (toy DeepLabV3
# R50 -> R18, 1 process x 8 crops of 96x96, 2k iterations). The tokens (8
# over the 8 toy classes) come from the toy stage 1:
#   python tools/train.py configs/rdd/maskd-tokens_deeplabv3_toy-r50_1xb8-500_toyseg-96x96.py  # noqa: E501
# Weights and inputs: configs/_base_/distill/kd_family/maskd.py.
_base_ = [
    './rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
    '../_base_/distill/kd_family/maskd.py',
]
toy_tokens_file = 'work_dirs/maskd-tokens_deeplabv3_toy-r50_1xb8-500_toyseg-96x96/iter_500.pth'  # noqa: E501
toy_tokens = dict(tokens=toy_tokens_file, channels=8)
maskd = _base_.kd_distiller
losses = maskd.distill_losses
model = dict(
    distiller=dict(
        maskd,
        distill_losses=dict(
            losses,
            loss_maskd=dict(losses.loss_maskd, **toy_tokens),
            loss_maskd_aux=dict(losses.loss_maskd_aux, **toy_tokens))))
