# RDD (TFE 8k iterations, then TSE-XOR) + pixel KD, cascade teacher:
# OCRNet-HRNetV2-W48 teacher -> DeepLabV3-R18-D8 student, Cityscapes
# 512x1024, with the student's MMSeg recipe (deeplabv3_r18-d8_4xb2-80k_
# cityscapes-512x1024: 4 GPUs x 2 crops, SGD lr 0.01, 80k iterations).
# OCRNet is a CascadeEncoderDecoder with decode_head=[FCNHead, OCRHead] and
# no auxiliary head. RDD names its stages decode_head.0 (FCN, MMSeg trains it
# with loss weight 0.4, like an auxiliary head) and decode_head.1 (OCR, the
# prediction). TFE compares them as the paper's two heads; in TSE the
# student's decode head pairs with decode_head.1 and its auxiliary head with
# decode_head.0 (the defaults, written out below). The teacher decodes at
# 1/4, the student at 1/8: the pixel KL resizes the teacher's logits to the
# student's size.
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    '../_base_/distill/rdd_logits.py',
    '../_base_/distill/cityscapes_class_weight.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
train_dataloader = dict(batch_size=2, num_workers=2)

# OCRNet-HRNetV2-W48, 160k, MMSeg model zoo (81.35 mIoU on Cityscapes val,
# the strongest published OCRNet-HR48 on Cityscapes).
teacher_cfg_path = 'mmseg::ocrnet/ocrnet_hr48_4xb2-160k_cityscapes-512x1024.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/ocrnet/ocrnet_hr48_512x1024_160k_cityscapes/ocrnet_hr48_512x1024_160k_cityscapes_20200602_191037-dfbf1b0c.pth'  # noqa: E501
# DeepLabV3-R18-D8 with its ImageNet R18 backbone (76.70 mIoU alone).
student_cfg_path = 'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'  # noqa: E501
model = dict(
    architecture=dict(cfg_path=student_cfg_path, pretrained=False),
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        # 10% of the schedule, as 4000 of 40000 in the reference
        switch_iter=8000,
        teacher_main='decode_head.1',
        teacher_aux='decode_head.0',
        head_pairs=dict(
            decode_head='decode_head.1', auxiliary_head='decode_head.0'),
        # 100000 / (4 * 512 * 1024) of a GPU batch of 2 x 512 x 1024
        # pixels, and the reference's 19 class weights
        tse=dict(
            min_kept=50000, class_weight={{_base_.cityscapes_class_weight}}),
        # the KD target: the OCR stage's logits
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs',
                        source='decode_head.1.conv_seg')),
        distill_losses=dict(loss_kl=dict(resize_to='student'))))
