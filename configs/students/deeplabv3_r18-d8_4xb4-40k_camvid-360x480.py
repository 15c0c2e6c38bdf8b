# DeepLabV3-R18-D8 on CamVid (SegNet's 11 classes, 360x480): a plain MMSeg
# config for scoring the distilled student of
# ../rdd/rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_camvid-360x480.py  # noqa: E501
# on the test split (docs/datasets.md):
#     python tools/test.py \
#         configs/students/deeplabv3_r18-d8_4xb4-40k_camvid-360x480.py \
#         work_dirs/RDD_RUN/iter_40000_student.pth
# MMSeg has no CamVid data set: CamVidDataset is mmrdd's, hence
# custom_imports. The model is mmseg::_base_/models/deeplabv3_r50-d8.py with
# ResNetV1c-18, adapted exactly as
# mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py  # noqa: E501
# adapts its R50; data as in the CamVid RDD configs, MMSeg's 40k schedule
# (SGD lr 0.01).
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/datasets/camvid.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
crop_size = (360, 480)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=128, num_classes=11),
    auxiliary_head=dict(in_channels=256, channels=64, num_classes=11))
