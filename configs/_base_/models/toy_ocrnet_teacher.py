# Toy cascade teacher: MMSeg's CascadeEncoderDecoder with OCRNet's two
# stages, [FCNHead (loss weight 0.4), OCRHead (1.0)], on the toy student's
# narrow ResNetV1c-18 (base width 16) at output stride 8. As in OCRNet the
# FCN stage's coarse prediction feeds the OCR head, and there is no auxiliary
# head: RDD names the stages decode_head.0 and decode_head.1 (the
# prediction). Plain BN so that it runs on CPU. A named variable (not
# `model`). It inherits ./toy_deeplabv3.py for the backbone and the data
# preprocessor, so a config listing it has the toy DeepLabV3 pair too
# (toy_teacher_model, toy_student_model) and must not list that file again.
_base_ = ['./toy_deeplabv3.py']
toy_ocrnet_teacher_model = dict(
    _scope_='mmseg',
    type='CascadeEncoderDecoder',
    num_stages=2,
    data_preprocessor=_base_.toy_data_preprocessor,
    pretrained=None,
    backbone=_base_.toy_student_model.backbone,
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
            **_base_.toy_head,
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
            **_base_.toy_head,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    ],
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
