# Toy cascade teacher: MMSeg's CascadeEncoderDecoder with OCRNet's two
# stages, [FCNHead (loss weight 0.4), OCRHead (1.0)], on a narrow
# ResNetV1c-18 (base width 16) at output stride 8. As in OCRNet the FCN
# stage's coarse prediction feeds the OCR head, and there is no auxiliary
# head: RDD names the stages decode_head.0 and decode_head.1 (the
# prediction). Plain BN so that it runs on CPU. A named variable (not
# `model`) so that a distillation config can inherit a teacher and a student
# model file.
toy_ocrnet_teacher_model = dict(
    _scope_='mmseg',
    type='CascadeEncoderDecoder',
    num_stages=2,
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(96, 96)),
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=[
        dict(
            type='FCNHead',
            in_channels=[32, 64, 128],
            channels=32,
            in_index=(1, 2, 3),
            input_transform='resize_concat',
            kernel_size=1,
            num_convs=1,
            concat_input=False,
            dropout_ratio=-1,
            num_classes=8,
            norm_cfg=dict(type='BN', requires_grad=True),
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        dict(
            type='OCRHead',
            in_channels=[32, 64, 128],
            in_index=(1, 2, 3),
            input_transform='resize_concat',
            channels=32,
            ocr_channels=16,
            dropout_ratio=-1,
            num_classes=8,
            norm_cfg=dict(type='BN', requires_grad=True),
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
