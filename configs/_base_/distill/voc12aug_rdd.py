# RDD on Pascal VOC 2012 + SBD aug (21 classes), crops of 512x512, 4 GPUs x 4
# crops (batch 16, as the reference's Cityscapes runs), 40k iterations: the
# schedule of MMSeg's VOC aug teacher
# (deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512) and of the CIRKD VOC runs.
# An experiment config adds the student:
#     _base_ = ['../_base_/distill/voc12aug_rdd.py',
#               '../_base_/distill/students/deeplabv3_r18-d8.py']
#     model = dict(architecture=_base_.student)
_base_ = [
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    '../schedules/rdd_schedule_40k.py',
    './rdd_logits.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
crop_size = (512, 512)
num_classes = 21
train_dataloader = dict(batch_size=4, num_workers=4)

# DeepLabV3-R101-D8, MMSeg model zoo (77.92 mIoU on VOC 2012 val).
teacher_cfg_path = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x512_40k_voc12aug/deeplabv3_r101-d8_512x512_40k_voc12aug_20200613_161432-0017d784.pth'  # noqa: E501

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
    distiller=dict(tse=dict(min_kept=50000, class_weight=None)))
