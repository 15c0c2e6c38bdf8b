# MasKD on the toy data set: kd_distiller of ./maskd.py (weights, inputs)
# with the tokens of the toy stage 1 (8 tokens over the 8 toy classes):
#   python tools/train.py configs/rdd/maskd-tokens_deeplabv3_toy-r50_1xb8-500_toyseg-96x96.py  # noqa: E501
_base_ = ['./maskd.py']
maskd_toy_tokens_file = 'work_dirs/maskd-tokens_deeplabv3_toy-r50_1xb8-500_toyseg-96x96/iter_500.pth'  # noqa: E501
maskd_toy_tokens = dict(tokens=maskd_toy_tokens_file, channels=8)
kd_distiller = dict(
    distill_losses=dict(
        loss_maskd=maskd_toy_tokens, loss_maskd_aux=maskd_toy_tokens))
