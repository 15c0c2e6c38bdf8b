# Teacher of the CamVid RDD configs: DeepLabV3-R101-D8 (ImageNet-initialised
# ResNetV1c-101) trained on the CamVid train split, 4 GPUs x 4 crops of
# 360x480, MMSeg's 40k schedule (SGD lr 0.01, poly). MMSeg publishes no
# CamVid model; train this first:
#     tools/dist_train.sh configs/teachers/deeplabv3_r101-d8_4xb4-40k_camvid-360x480.py 4  # noqa: E501
# -> work_dirs/deeplabv3_r101-d8_4xb4-40k_camvid-360x480/iter_40000.pth, the
# teacher_ckpt of configs/_base_/distill/camvid_rdd.py.
_base_ = [
    '../_base_/datasets/camvid.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
    '../_base_/distill/teachers/deeplabv3_r101-d8_camvid.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
model = _base_.camvid_teacher
