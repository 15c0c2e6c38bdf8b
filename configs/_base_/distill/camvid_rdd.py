# RDD on CamVid (SegNet's 11 classes), crops of 360x480 (the whole frame after
# a 0.5-2.0 rescale; CIRKD crops 360x360), 4 GPUs x 4 crops (batch 16, as the
# reference and CIRKD), 40k iterations (CIRKD's CamVid schedule; ~1700
# epochs of the 367 training images).
# An experiment config adds the student:
#     _base_ = ['../_base_/distill/camvid_rdd.py',
#               '../_base_/distill/students/deeplabv3_r18-d8.py']
#     model = dict(architecture=_base_.student)
_base_ = [
    '../datasets/camvid.py',
    'mmseg::_base_/default_runtime.py',
    '../schedules/rdd_schedule_40k.py',
    './rdd_logits.py',
    './teachers/deeplabv3_r101-d8_camvid.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
crop_size = (360, 480)
num_classes = 11
train_dataloader = dict(batch_size=4, num_workers=4)

# MMSeg publishes no CamVid model: train the teacher first with
#     tools/dist_train.sh configs/teachers/deeplabv3_r101-d8_4xb4-40k_camvid-360x480.py 4  # noqa: E501
# which writes the checkpoint below (see configs/rdd/README.md).
# Its ImageNet initialisation is not needed here (the checkpoint replaces it).
teacher_ckpt = 'work_dirs/deeplabv3_r101-d8_4xb4-40k_camvid-360x480/iter_40000.pth'  # noqa: E501

# TSE min_kept: the reference's share (4.77%) of a GPU batch's label pixels
# (rule: configs/rdd/README.md): 4 x 360 x 480 -> 32959 -> 33000.
# No TSE class weights: the reference's are the 19 Cityscapes ones.
model = dict(
    architecture=dict(
        data_preprocessor=dict(size=crop_size),
        decode_head=dict(num_classes=num_classes),
        auxiliary_head=dict(num_classes=num_classes)),
    teacher=dict(_base_.camvid_teacher, pretrained=None),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(tse=dict(min_kept=33000, class_weight=None)))
