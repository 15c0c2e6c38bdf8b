# Cityscapes 512x1024, 4 GPUs x 4 crops, the reference class weights in TSE.
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../schedules/rdd_schedule_40k.py',
    './rdd_logits.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
train_dataloader = dict(batch_size=4, num_workers=4)

# The 19 Cityscapes class weights of the reference's stage-2 OHEM loss.
cityscapes_class_weight = [
    0.8373, 0.918, 0.866, 1.0345, 1.0166, 0.9969, 0.9754, 1.0489, 0.8786,
    1.0023, 0.9539, 0.9843, 1.1116, 0.9037, 1.0865, 1.0955, 1.0865, 1.1529,
    1.0507
]
# DeepLabV3-R101-D8, MMSeg model zoo (77.12 mIoU on Cityscapes val, the
# published teacher closest to the paper's 78.07).
teacher_cfg_path = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-40k_cityscapes-512x1024.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x1024_40k_cityscapes/deeplabv3_r101-d8_512x1024_40k_cityscapes_20200605_012241-7fd3f799.pth'  # noqa: E501
model = dict(
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        tse=dict(min_kept=100000, class_weight=cityscapes_class_weight)))
