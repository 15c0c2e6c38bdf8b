# MasKD stage 1: learn the 8 receptive tokens on the frozen teacher's
# decode-head logits (19 classes), as hunto/MasKD segmentation/
# train_mask_module.py (SGD lr 0.1, wd 1e-3, poly, 10k iterations of batch
# 16: configs/_base_/schedules/maskd_tokens_schedule.py). The teacher, data
# and pipeline are those of the Cityscapes distillation configs
# (DeepLabV3-R101-D8 of MMSeg, as in ../_base_/distill/cityscapes_rdd.py;
# 4 GPUs x 4 crops of 512x1024):
#   tools/dist_train.sh configs/rdd/maskd-tokens_deeplabv3_r101-d8_4xb4-10k_cityscapes-512x1024.py 4  # noqa: E501
# writes work_dirs/maskd-tokens_deeplabv3_r101-d8_4xb4-10k_cityscapes-512x1024/
# iter_10000.pth (the tokens only, a few kB), which the maskd_* and
# rdd+maskd_* Cityscapes configs load (kd_family/maskd.py, maskd_tokens).
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/maskd_tokens_schedule.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
train_dataloader = dict(batch_size=4, num_workers=4)
teacher_cfg_path = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-40k_cityscapes-512x1024.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x1024_40k_cityscapes/deeplabv3_r101-d8_512x1024_40k_cityscapes_20200605_012241-7fd3f799.pth'  # noqa: E501
model = dict(
    _scope_='mmrazor',
    type='MasKDTokenTrainer',
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    num_tokens=8)
# the model predicts nothing: no validation, no test
val_cfg = val_dataloader = val_evaluator = None
test_cfg = test_dataloader = test_evaluator = None
