# RDD on ADE20K (150 classes), crops of 512x512, 4 GPUs x 4 crops (batch 16),
# 80k iterations: the schedule length of MMSeg's ADE20K teacher
# (deeplabv3_r101-d8_4xb4-80k_ade20k-512x512; CIRKD's ADE20K runs use 40k).
# TFE covers the first 8k iterations: the reference's 10% (4k of 40k,
# mmrdd.models.distillers.reference_switch_iter).
# An experiment config adds the student:
#     _base_ = ['../_base_/distill/ade20k_rdd.py',
#               '../_base_/distill/students/deeplabv3_r18-d8.py']
#     model = dict(architecture=_base_.student)
_base_ = [
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../schedules/rdd_schedule_80k.py',
    './rdd_logits.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
crop_size = (512, 512)
num_classes = 150
train_dataloader = dict(batch_size=4, num_workers=4)

# DeepLabV3-R101-D8, MMSeg model zoo (44.08 mIoU on ADE20K val).
teacher_cfg_path = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-80k_ade20k-512x512.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x512_80k_ade20k/deeplabv3_r101-d8_512x512_80k_ade20k_20200615_021256-d89c7fa4.pth'  # noqa: E501

# TSE min_kept: the reference's share (4.77%) of a GPU batch's label pixels
# (rule: configs/rdd/README.md): 4 x 512 x 512 -> 50000.
# No TSE class weights: the reference's are the 19 Cityscapes ones.
model = dict(
    architecture=dict(
        data_preprocessor=dict(size=crop_size),
        decode_head=dict(num_classes=num_classes),
        auxiliary_head=dict(num_classes=num_classes)),
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        switch_iter=8000, tse=dict(min_kept=50000, class_weight=None)))
