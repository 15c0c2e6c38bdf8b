# Toy RDD + CWD on features (T 4, weight 50) and logits
# (T 4, weight 3) + pixel KD (1):
# TFE for 200 iterations, then TSE-XOR, on the toy data set (toy
# DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 2k iterations).
# Weights and inputs: configs/_base_/distill/kd_family/cwd.py;
# toy sizes: channels 32 -> 64.
_base_ = [
    '../_base_/distill/toy_rdd.py',
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
