# Student PSPNet-R18-D8 as an MMSeg model dict, for data sets where MMSeg
# has no R18 config (it has them for Cityscapes only, and MMRazor's cfg_path
# cannot override the depth): mmseg::_base_/models/pspnet_r50-d8.py
# adapted to ResNetV1c-18 exactly as
# mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py does
# (open-mmlab://resnet18_v1c, depth 18, decode head in/channels 512/128,
# auxiliary head 256/64). num_classes and the preprocessor's padding size are
# left to the data set base (configs/_base_/distill/*_rdd.py); an experiment
# config lists both bases and sets
#     model = dict(architecture=_base_.student)
# (a variable, not `model`, since two bases may not both define `model`).
student = dict(
    _scope_='mmseg',
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='PSPHead',
        in_channels=512,
        in_index=3,
        channels=128,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=256,
        in_index=2,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
