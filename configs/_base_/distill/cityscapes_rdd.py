# Cityscapes 512x1024, 4 GPUs x 4 crops, the reference class weights in TSE.
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../schedules/rdd_schedule_40k.py',
    './rdd_logits.py',
    './cityscapes_class_weight.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
train_dataloader = dict(batch_size=4, num_workers=4)
# DeepLabV3-R101-D8, MMSeg model zoo (77.12 mIoU on Cityscapes val, the
# published teacher closest to the paper's 78.07).
teacher_cfg_path = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-40k_cityscapes-512x1024.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x1024_40k_cityscapes/deeplabv3_r101-d8_512x1024_40k_cityscapes_20200605_012241-7fd3f799.pth'  # noqa: E501
model = dict(
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        tse=dict(
            min_kept=100000, class_weight={{_base_.cityscapes_class_weight}})))
