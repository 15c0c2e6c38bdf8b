# MMSeg's SegFormer schedule, as in segformer_mit-b0_8xb2-160k_ade20k-512x512
# and segformer_mit-b0_8xb1-160k_cityscapes-1024x1024 (batch 16 = 8 GPUs x 2
# and 8 = 8 x 1): AdamW lr 6e-5, betas (0.9, 0.999), weight decay 0.01 (none
# on norms), heads at 10x lr; linear warm-up over 1500 iterations, then poly
# (power 1) down to 0 at 160k. tests/test_dataset_configs.py checks it
# against MMSeg's configs.
_base_ = ['mmseg::_base_/schedules/schedule_160k.py']
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=0.00006, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'pos_block': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.),
            'head': dict(lr_mult=10.)
        }))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=1500,
        end=160000,
        by_epoch=False,
    )
]
