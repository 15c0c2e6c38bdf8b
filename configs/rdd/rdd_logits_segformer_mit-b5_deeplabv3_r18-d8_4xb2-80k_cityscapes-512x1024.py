# RDD (flip-TFE 8k iterations, then TSE-XOR) + pixel KD, Transformer -> CNN:
# SegFormer MiT-B5 teacher -> DeepLabV3-R18-D8 student, Cityscapes 512x1024,
# with the student's MMSeg recipe (deeplabv3_r18-d8_4xb2-80k_cityscapes-
# 512x1024: 4 GPUs x 2 crops, SGD lr 0.01, 80k iterations). Cityscapes,
# because MMSeg has a DeepLabV3-R18 recipe (and baseline) only there.
# - The teacher has no auxiliary head: TFE's second view is its prediction
#   on the flipped batch (tfe.second_view='flip', an mmrdd extension, not in
#   the paper). In TSE both student heads pair with the teacher's only head.
# - The teacher decodes at 1/4 (128x256 on a 512x1024 crop), the student at
#   1/8 (64x128): the pixel KL resizes the teacher's logits to the
#   student's size (resize_to='student'; 'teacher' is the other choice).
_base_ = ['../_base_/distill/cityscapes_r18_recipe_rdd.py']

# SegFormer MiT-B5, MMSeg model zoo (82.25 mIoU on Cityscapes val; trained
# on 1024x1024 crops, it runs on any input size).
teacher_cfg_path = 'mmseg::segformer/segformer_mit-b5_8xb1-160k_cityscapes-1024x1024.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b5_8x1_1024x1024_160k_cityscapes/segformer_mit-b5_8x1_1024x1024_160k_cityscapes_20211206_072934-87a052ec.pth'  # noqa: E501
model = dict(
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        tfe=dict(second_view='flip'),
        distill_losses=dict(loss_kl=dict(resize_to='student'))))
