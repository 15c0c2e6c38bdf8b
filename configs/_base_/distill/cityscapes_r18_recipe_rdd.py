# RDD on Cityscapes 512x1024 for a DeepLabV3-R18-D8 student trained on its
# own MMSeg recipe (deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024: 4 GPUs x
# 2 crops, SGD lr 0.01, 80k iterations), for the teachers beyond the paper's.
# An experiment config adds the teacher:
#     _base_ = ['../_base_/distill/cityscapes_r18_recipe_rdd.py']
#     model = dict(teacher=dict(cfg_path=..., pretrained=False),
#                  teacher_ckpt=...)
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    './rdd_logits.py',
    './cityscapes_class_weight.py',
    './students/deeplabv3_r18-d8_cityscapes.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
train_dataloader = dict(batch_size=2, num_workers=2)

# DeepLabV3-R18-D8 with its ImageNet R18 backbone (76.70 mIoU alone).
model = dict(
    architecture=_base_.student,
    distiller=dict(
        # reference_switch_iter(80000): 10%, as 4000 of 40000
        switch_iter=8000,
        # 100000 / (4 * 512 * 1024) of a GPU batch of 2 x 512 x 1024
        # pixels, and the reference's 19 class weights
        tse=dict(
            min_kept=50000, class_weight={{_base_.cityscapes_class_weight}})))
