# RDD (TFE 8k iterations, then TSE-XOR) + pixel KD, cascade teacher:
# OCRNet-HRNetV2-W48 teacher -> DeepLabV3-R18-D8 student, Cityscapes
# 512x1024, with the student's MMSeg recipe (deeplabv3_r18-d8_4xb2-80k_
# cityscapes-512x1024: 4 GPUs x 2 crops, SGD lr 0.01, 80k iterations; TFE
# for 10% of it, TSE min_kept and class weights: see the base).
# OCRNet is a CascadeEncoderDecoder with decode_head=[FCNHead, OCRHead] and
# no auxiliary head. RDD names its stages decode_head.0 (FCN, MMSeg trains it
# with loss weight 0.4, like an auxiliary head) and decode_head.1 (OCR, the
# prediction). TFE compares them as the paper's two heads; in TSE the
# student's decode head pairs with decode_head.1 and its auxiliary head with
# decode_head.0 (the defaults, written out below). The teacher decodes at
# 1/4, the student at 1/8: the pixel KL resizes the teacher's logits to the
# student's size.
_base_ = ['../_base_/distill/cityscapes_r18_recipe_rdd.py']

# OCRNet-HRNetV2-W48, 160k, MMSeg model zoo (81.35 mIoU on Cityscapes val,
# the strongest published OCRNet-HR48 on Cityscapes).
teacher_cfg_path = 'mmseg::ocrnet/ocrnet_hr48_4xb2-160k_cityscapes-512x1024.py'  # noqa: E501
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/ocrnet/ocrnet_hr48_512x1024_160k_cityscapes/ocrnet_hr48_512x1024_160k_cityscapes_20200602_191037-dfbf1b0c.pth'  # noqa: E501
model = dict(
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        teacher_main='decode_head.1',
        teacher_aux='decode_head.0',
        head_pairs=dict(
            decode_head='decode_head.1', auxiliary_head='decode_head.0'),
        # the KD target: the OCR stage's logits
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs',
                        source='decode_head.1.conv_seg')),
        distill_losses=dict(loss_kl=dict(resize_to='student'))))
