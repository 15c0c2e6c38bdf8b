# Toy RDD + FitNet (10, decode-head feature through a 1x1 conv)
# + pixel KD (1):
# TFE for 100 iterations, then TSE-XOR, on the toy data set (toy
# DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 1k iterations).
# Weights and inputs: configs/_base_/distill/kd_family/fitnet.py;
# toy sizes: channels 32 -> 64.
_base_ = [
    './rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
    '../_base_/distill/kd_family/fitnet.py',
]
model = dict(
    distiller=dict(
        _base_.kd_distiller,
        connectors=dict(
            fitnet_proj=dict(
                _base_.kd_distiller.connectors.fitnet_proj,
                in_channel=32,
                out_channel=64))))
