# Toy RDD + Af-DCD: pixel KD (1), masked feature mimicking (2e-6) and
# omni-contrast (0.005) on the backbone's last feature: TFE for 200 iterations,
# then TSE-XOR, on the toy data set (toy DeepLabV3 R50 -> R18, 1 process x 8
# crops of 96x96, 2k iterations). Weights and inputs:
# configs/_base_/distill/kd_family/afdcd.py (the R18 student's: central mask,
# enhanced projector); toy sizes: channels 128 -> 512, features of 12x12
# max-pooled by 3 (not 4) to one 4x4 patch.
_base_ = [
    './rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
    '../_base_/distill/kd_family/afdcd.py',
]
afdcd = _base_.kd_distiller  # the Cityscapes pieces, resized below
model = dict(
    distiller=dict(
        afdcd,
        distill_losses=dict(
            loss_afdcd=dict(
                afdcd.distill_losses.loss_afdcd,
                student_channels=128,
                teacher_channels=512,
                pool_size=3))))
