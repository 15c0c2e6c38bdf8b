# RDD + MasKD on the decode-head logits (1) only, no pixel KD: TFE for 4k
# iterations, then TSE-XOR, re-weight the task loss; the method's loss is
# added unchanged. DeepLabV3-R101-D8 -> DeepLabV3-MobileNetV2-D8,
# Cityscapes 512x1024, 4 GPUs x 4 crops, 40k iterations. No auxiliary
# MasKD term: the official MobileNetV2 student has no auxiliary head. The
# tokens of stage 1 are the teacher's (the same file as for DeepLabV3-R18):
#   tools/dist_train.sh configs/rdd/maskd-tokens_deeplabv3_r101-d8_4xb4-10k_cityscapes-512x1024.py 4  # noqa: E501
# Weights and inputs: configs/_base_/distill/kd_family/maskd.py.
_base_ = [
    '../_base_/distill/cityscapes_rdd.py',
    '../_base_/distill/students/deeplabv3_mbv2-d8_cityscapes.py',
    '../_base_/distill/kd_family/maskd.py',
]
model = dict(
    architecture=_base_.student,
    distiller=dict(
        distill_losses=dict(_delete_=True, **_base_.maskd_losses_decode),
        loss_forward_mappings=dict(
            _delete_=True, **_base_.maskd_mappings_decode)))
