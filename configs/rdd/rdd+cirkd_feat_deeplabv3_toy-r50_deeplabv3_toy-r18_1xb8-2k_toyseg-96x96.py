# Toy RDD + CIRKD: pixel KD (1), mini-batch pixel-to-pixel (1), memory
# pixel-to-pixel (0.1) and pixel-to-region (0.1):
# TFE for 100 iterations, then TSE-XOR, on the toy data set (toy
# DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 1k iterations).
# Weights and inputs: configs/_base_/distill/kd_family/cirkd.py;
# toy sizes: channels 32 -> 64, 8 classes, memories of 2000 / 200 entries
# and contrast sets of 1024 / 256 (scaled to the toy data).
_base_ = [
    './rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
    '../_base_/distill/kd_family/cirkd.py',
]
model = dict(
    distiller=dict(
        _base_.kd_distiller,
        connectors=dict(cirkd_proj=[
            dict(
                type='ConvModuleConnector',
                in_channel=32,
                out_channel=64,
                bias=False,
                norm_cfg=dict(type='BN'),
                act_cfg=dict(type='ReLU')),
            dict(
                type='ConvModuleConnector',
                in_channel=64,
                out_channel=64,
                bias=False,
                norm_cfg=None,
                act_cfg=None),
        ]),
        distill_losses=dict(
            loss_cirkd_batch=_base_.kd_distiller.distill_losses.
            loss_cirkd_batch,
            loss_cirkd_pixel=dict(
                type='CIRKDMemoryLoss',
                num_classes=8,
                feat_channels=64,
                memory='pixel',
                memory_size=2000,
                contrast_size=1024,
                loss_weight=0.1),
            loss_cirkd_region=dict(
                type='CIRKDMemoryLoss',
                num_classes=8,
                feat_channels=64,
                memory='region',
                memory_size=200,
                contrast_size=256,
                loss_weight=0.1))))
