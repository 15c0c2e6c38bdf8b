# The toy DeepLabV3 pair, trained from scratch at output stride 8 (dilated
# stages 3 and 4) as in the D8 models, plain BN so that it runs on CPU:
# - toy_teacher_model: DeepLabV3 on a narrow ResNetV1c-50 (base width 16, a
#   quarter of the real R50);
# - toy_student_model: the same on a narrow ResNetV1c-18 (base width 16, a
#   quarter of the real R18), heads at half the teacher's channels.
# Named variables (not `model`) in one file, so that a distillation config
# lists this one base for both (two bases may not define the same
# variable). toy_data_preprocessor is every toy model's (also
# ./toy_segformer.py's and ./toy_ocrnet_teacher.py's, which inherit this
# file), and so is toy_head.
toy_data_preprocessor = dict(
    type='mmseg.SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(96, 96))
# What every toy head shares: the toy data set's 8 classes, plain BN.
toy_head = dict(
    num_classes=8,
    norm_cfg=dict(type='BN', requires_grad=True),
    align_corners=False)
toy_teacher_model = dict(
    _scope_='mmseg',
    type='EncoderDecoder',
    data_preprocessor=toy_data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        stem_channels=32,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='ASPPHead',
        in_channels=512,
        in_index=3,
        channels=64,
        dilations=(1, 2, 4, 6),
        dropout_ratio=0.1,
        **toy_head,
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
        **toy_head,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# R18 (basic blocks: stage widths 16/32/64/128), a 16-channel stem
toy_student_model = dict(
    toy_teacher_model,
    backbone=dict(toy_teacher_model['backbone'], depth=18, stem_channels=16),
    decode_head=dict(
        toy_teacher_model['decode_head'], in_channels=128, channels=32),
    auxiliary_head=dict(
        toy_teacher_model['auxiliary_head'], in_channels=64, channels=32))
