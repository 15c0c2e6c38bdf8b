# RDD (TFE 4k iterations, then TSE-XOR) + pixel KD:
# DeepLabV3-R101-D8 teacher -> pspnet_r18-d8 student, Cityscapes 512x1024.
_base_ = ['../_base_/distill/cityscapes_rdd.py']

student_cfg_path = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'  # noqa: E501
model = dict(architecture=dict(cfg_path=student_cfg_path, pretrained=False))
