# MasKD stage 1 (the receptive tokens on the frozen teacher), as the
# official segmentation/train_mask_module.py @b5af34f: SGD lr 0.1, momentum
# 0.9, weight decay 1e-3 (its defaults), poly power 0.9 down to 0, 10k
# iterations of batch 16. Only the tokens are trained and the model
# predicts nothing: a config based on this file sets val_cfg,
# val_dataloader, val_evaluator and their test_* twins to None.
max_iters = 10000
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-3)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=1000,
        max_keep_ckpts=2,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'))
