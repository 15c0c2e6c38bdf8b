# Toy KT: logit KD (CWD, T 4: decode head 1, auxiliary head 0.4), logit
# tailoring (1), feature tailoring (1) and its triplet contrast (1): one stage
# (no RDD), on the toy data set (toy DeepLabV3 R50 -> R18, 1 process x 8 crops
# of 96x96, 2k iterations). Weights and inputs:
# configs/_base_/distill/kd_family/kt.py; toy sizes: decode-head features of 32
# -> 64 channels, the teacher tailored from iteration 500 (a quarter of the
# schedule, as 10000 of 40000). The toy schedule's weight decay is kept.
_base_ = [
    './kd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py',  # noqa: E501
    '../_base_/distill/kd_family/kt.py',
]
kt = _base_.kd_distiller  # the Cityscapes pieces, resized below
model = dict(
    distiller=dict(
        kt,
        distill_losses=dict(
            kt.distill_losses,
            loss_kt_feat=dict(
                kt.distill_losses.loss_kt_feat,
                student_channels=32,
                teacher_channels=64,
                tuning_iter=500))))
