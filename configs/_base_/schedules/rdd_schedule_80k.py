# The reference optimiser (SGD lr 0.02 for batch 16, momentum 0.9, weight
# decay 1e-4, poly 0.9) over 80k iterations, MMSeg's ADE20K schedule length
# (MMSeg's own ADE20K runs use lr 0.01 and weight decay 5e-4).
_base_ = ['./rdd_schedule_40k.py']
# the 40k schedule's poly decay, to 0 at 80k
param_scheduler = [dict(_base_.param_scheduler[0], end=80000)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
