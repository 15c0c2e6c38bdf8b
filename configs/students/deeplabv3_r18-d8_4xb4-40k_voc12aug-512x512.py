# DeepLabV3-R18-D8 on Pascal VOC 2012 + SBD aug (21 classes):
# a plain MMSeg config for scoring the distilled student of
# ../rdd/rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_voc12aug-512x512.py  # noqa: E501
# (MMSeg 1.2.2 has no deeplabv3_r18-d8 config for voc12aug; docs/datasets.md):
#     python tools/test.py \
#         configs/students/deeplabv3_r18-d8_4xb4-40k_voc12aug-512x512.py \
#         work_dirs/RDD_RUN/iter_40000_student.pth
# MMSeg's deeplabv3_r50-d8 voc12aug config with ResNetV1c-18, adapted exactly
# as mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py  # noqa: E501
# adapts its R50 (data, schedule and runtime stay MMSeg's: SGD lr 0.01,
# not RDD's 0.02).
_base_ = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-40k_voc12aug-512x512.py'
model = dict(
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(depth=18),
    decode_head=dict(
        in_channels=512,
        channels=128,
    ),
    auxiliary_head=dict(in_channels=256, channels=64))
