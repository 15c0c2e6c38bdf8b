# Toy RDD + CIRKD: pixel KD (1), mini-batch pixel-to-pixel (1), memory
# pixel-to-pixel (0.1) and pixel-to-region (0.1):
# TFE for 200 iterations, then TSE-XOR, on the toy data set (toy
# DeepLabV3 R50 -> R18, 1 process x 8 crops of 96x96, 2k iterations).
# Weights and inputs: configs/_base_/distill/kd_family/cirkd.py;
# toy sizes: channels 32 -> 64, 8 classes, memories of 2000 / 200 entries
# and contrast sets of 1024 / 256 (scaled to the toy data).
_base_ = [
    '../_base_/distill/toy_rdd.py',
    '../_base_/distill/kd_family/cirkd.py',
]
cirkd = _base_.kd_distiller  # the Cityscapes pieces, resized below
model = dict(
    distiller=dict(
        cirkd,
        connectors=dict(cirkd_proj=[
            dict(
                cirkd.connectors.cirkd_proj[0],
                in_channel=32,
                out_channel=64,
                norm_cfg=dict(type='BN')),
            dict(
                cirkd.connectors.cirkd_proj[1], in_channel=64, out_channel=64),
        ]),
        distill_losses=dict(
            cirkd.distill_losses,
            loss_cirkd_pixel=dict(
                cirkd.distill_losses.loss_cirkd_pixel,
                num_classes=8,
                feat_channels=64,
                memory_size=2000,
                contrast_size=1024),
            loss_cirkd_region=dict(
                cirkd.distill_losses.loss_cirkd_region,
                num_classes=8,
                feat_channels=64,
                memory_size=200,
                contrast_size=256))))
