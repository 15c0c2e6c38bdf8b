# Student PSPNet-R18-D8 as an MMSeg model dict, for data sets where MMSeg
# has no R18 config (it has them for Cityscapes only, and MMRazor's cfg_path
# cannot override the depth): ./deeplabv3_r18-d8.py (the same ResNetV1c-18
# and auxiliary head) with the decode head of
# mmseg::_base_/models/pspnet_r50-d8.py adapted to ResNetV1c-18 exactly as
# mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py does
# (in/channels 512/128). num_classes and the preprocessor's padding size are
# left to the data set base (configs/_base_/distill/*_rdd.py); an experiment
# config lists both bases and sets
#     model = dict(architecture=_base_.student)
# (a variable, not `model`, since two bases may not both define `model`).
_base_ = ['./deeplabv3_r18-d8.py']
student = dict(
    decode_head=dict(
        _delete_=True,
        type='PSPHead',
        in_channels=512,
        in_index=3,
        channels=128,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
