# Toy RDD + CWD on features (T 4, weight 50) and logits
# (T 4, weight 3) + pixel KD (1):
# TFE for 100 iterations, then TSE-XOR, on the toy data set (toy
# DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 1k iterations).
# Weights and inputs: configs/_base_/distill/kd_family/cwd.py;
# toy sizes: channels 32 -> 64.
_base_ = [
    './rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
    '../_base_/distill/kd_family/cwd.py',
]
model = dict(
    distiller=dict(
        _base_.kd_distiller,
        connectors=dict(
            cwd_proj=dict(
                _base_.kd_distiller.connectors.cwd_proj,
                in_channel=32,
                out_channel=64))))
