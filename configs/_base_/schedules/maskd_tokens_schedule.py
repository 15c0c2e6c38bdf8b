# MasKD stage 1 (the receptive tokens on the frozen teacher), as the
# official segmentation/train_mask_module.py @b5af34f: SGD lr 0.1, momentum
# 0.9, weight decay 1e-3 (its defaults), poly power 0.9 down to 0, 10k
# iterations of batch 16 -- the reference schedule with these changes.
# Only the tokens are trained and the model predicts nothing: a config
# based on this file sets val_cfg, val_dataloader, val_evaluator and their
# test_* twins to None.
_base_ = ['./rdd_schedule_40k.py']
max_iters = 10000
optimizer = dict(lr=0.1, weight_decay=1e-3)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=1000, max_keep_ckpts=2))
