# Student PSPNet-R18-D8 on Cityscapes: MMSeg's own config (its ImageNet R18
# backbone, open-mmlab://resnet18_v1c; 74.87 mIoU alone on its 80k recipe,
# MMSeg's metafile), built without MMSeg's trained weights. An experiment
# config lists this base and sets
#     model = dict(architecture=_base_.student)
# (a variable, not `model`, since two bases may not both define `model`).
student_cfg_path = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'  # noqa: E501
student = dict(cfg_path=student_cfg_path, pretrained=False)
