# RDD (flip-TFE 16k iterations, then TSE-XOR) + pixel KD:
# SegFormer MiT-B5 teacher -> SegFormer MiT-B0 student, Cityscapes
# 1024x1024, with the student's MMSeg recipe
# (segformer_mit-b0_8xb1-160k_cityscapes-1024x1024: 8 GPUs x 1 crop, AdamW,
# 160k iterations; flip-TFE and the recipe: see the base).
_base_ = [
    'mmseg::_base_/datasets/cityscapes_1024x1024.py',
    '../_base_/distill/segformer_mit-b0_recipe_rdd.py',
    '../_base_/distill/cityscapes_class_weight.py',
]
train_dataloader = dict(batch_size=1, num_workers=4)

# SegFormer MiT-B5, MMSeg model zoo (82.25 mIoU on Cityscapes val).
teacher_cfg_path = 'mmseg::segformer/segformer_mit-b5_8xb1-160k_cityscapes-1024x1024.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b5_8x1_1024x1024_160k_cityscapes/segformer_mit-b5_8x1_1024x1024_160k_cityscapes_20211206_072934-87a052ec.pth'  # noqa: E501
# SegFormer MiT-B0 with its ImageNet MiT-B0 backbone (76.54 mIoU alone).
student_cfg_path = 'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py'  # noqa: E501
model = dict(
    architecture=dict(cfg_path=student_cfg_path),
    teacher=dict(cfg_path=teacher_cfg_path),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        # 100000 / (4 * 512 * 1024) of a GPU batch of 1 x 1024 x 1024
        # pixels, and the reference's 19 class weights
        tse=dict(
            min_kept=50000, class_weight={{_base_.cityscapes_class_weight}})))
