# The toy SegFormer pair: MMSeg's MixVisionTransformer (one layer per stage)
# with a SegformerHead. Like SegFormer (MiT-B0 as well as B5) they decode at
# 1/4 of the input and have no auxiliary head, so RDD's TFE needs the
# flipped second view (tfe=dict(second_view='flip')). Plain BN so that they
# run on CPU.
# - toy_segformer_teacher_model: embed dims 16, widths 16/32/64/128;
# - toy_segformer_student_model: tinier, embed dims 8, widths 8/16/16/32.
# Named variables (not `model`) in one file, so that a distillation config
# lists this one base for both. It inherits ./toy_deeplabv3.py for the toy
# data preprocessor, so a config listing it has the toy DeepLabV3 pair too
# (toy_teacher_model, toy_student_model) and must not list that file again.
_base_ = ['./toy_deeplabv3.py']
toy_segformer_teacher_model = dict(
    _scope_='mmseg',
    type='EncoderDecoder',
    data_preprocessor=_base_.toy_data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=16,
        num_stages=4,
        num_layers=[1, 1, 1, 1],
        num_heads=[1, 2, 4, 8],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=2,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1),
    decode_head=dict(
        type='SegformerHead',
        in_channels=[16, 32, 64, 128],
        in_index=[0, 1, 2, 3],
        channels=32,
        dropout_ratio=0.1,
        **_base_.toy_head,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# stage widths embed_dims x num_heads
toy_segformer_student_model = dict(
    toy_segformer_teacher_model,
    backbone=dict(
        toy_segformer_teacher_model['backbone'],
        embed_dims=8,
        num_heads=[1, 2, 2, 4]),
    decode_head=dict(
        toy_segformer_teacher_model['decode_head'],
        in_channels=[8, 16, 16, 32],
        channels=16))
