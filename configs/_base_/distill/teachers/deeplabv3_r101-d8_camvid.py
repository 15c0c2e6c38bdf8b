# Teacher DeepLabV3-R101-D8 for CamVid (11 classes, 360x480 crops).
# MMSeg publishes no CamVid model, so it is trained here first with
# configs/teachers/deeplabv3_r101-d8_4xb4-40k_camvid-360x480.py
# (see configs/rdd/README.md). The model is
# mmseg::_base_/models/deeplabv3_r50-d8.py with ResNetV1c-101 as MMSeg's
# deeplabv3_r101-d8_* configs set it (open-mmlab://resnet101_v1c, depth 101)
# and 11 classes. It is a variable, not `model`, so that the teacher training
# config (model = _base_.camvid_teacher) and the distillation base
# (teacher=_base_.camvid_teacher) share one definition.
camvid_teacher = dict(
    _scope_='mmseg',
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(360, 480)),
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='ASPPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
