# Toy RDD + FitNet (10, decode-head feature through a 1x1 conv)
# + pixel KD (1):
# TFE for 200 iterations, then TSE-XOR, on the toy data set (toy
# DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 2k iterations).
# Weights and inputs: configs/_base_/distill/kd_family/fitnet.py;
# toy sizes: channels 32 -> 64.
_base_ = [
    '../_base_/distill/toy_rdd.py',
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
