# RDD (flip-TFE 16k iterations, then TSE-XOR) + pixel KD:
# SegFormer MiT-B5 teacher -> SegFormer MiT-B0 student, ADE20K 512x512, with
# the student's MMSeg recipe (segformer_mit-b0_8xb2-160k_ade20k-512x512:
# 8 GPUs x 2 crops, AdamW, 160k iterations; flip-TFE and the recipe: see
# the base).
_base_ = [
    'mmseg::_base_/datasets/ade20k.py',
    '../_base_/distill/segformer_mit-b0_recipe_rdd.py',
]
train_dataloader = dict(batch_size=2, num_workers=2)

# SegFormer MiT-B5, MMSeg model zoo (49.13 mIoU on ADE20K val).
teacher_cfg_path = 'mmseg::segformer/segformer_mit-b5_8xb2-160k_ade20k-512x512.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b5_512x512_160k_ade20k/segformer_mit-b5_512x512_160k_ade20k_20210726_145235-94cedf59.pth'  # noqa: E501
# SegFormer MiT-B0 with its ImageNet MiT-B0 backbone (37.41 mIoU alone).
student_cfg_path = 'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'  # noqa: E501
model = dict(
    architecture=dict(cfg_path=student_cfg_path),
    teacher=dict(cfg_path=teacher_cfg_path),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        # 100000 / (4 * 512 * 1024) of a GPU batch of 2 x 512 x 512 pixels;
        # no class weights (the reference's are Cityscapes statistics)
        tse=dict(min_kept=25000, class_weight=None)))
