# Student DeepLabV3-MobileNetV2-D8 on Cityscapes: MMSeg's own config (its
# ImageNet MobileNetV2 backbone, mmcls://mobilenet_v2; 73.84 mIoU alone on its
# 80k recipe, MMSeg's metafile), built without MMSeg's trained weights. An
# experiment config lists this base and sets
#     model = dict(architecture=_base_.student)
# (a variable, not `model`, since two bases may not both define `model`).
student_cfg_path = 'mmseg::mobilenet_v2/mobilenet-v2-d8_deeplabv3_4xb2-80k_cityscapes-512x1024.py'  # noqa: E501
student = dict(cfg_path=student_cfg_path, pretrained=False)
