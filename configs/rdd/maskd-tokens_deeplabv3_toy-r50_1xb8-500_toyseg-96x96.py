# Toy MasKD stage 1: the 8 receptive tokens on the toy teacher's
# decode-head logits (8 classes), with the official stage-1 optimiser
# (configs/_base_/schedules/maskd_tokens_schedule.py) for 500 iterations of
# 1 x 8 crops of 96x96 (a quarter of the toy distillation's 2k, as 10k of
# 40k). Writes work_dirs/maskd-tokens_deeplabv3_toy-r50_1xb8-500_toyseg-96x96/
# iter_500.pth, which the toy maskd_* and rdd+maskd_* configs load.
_base_ = [
    '../_base_/datasets/toyseg.py',
    '../_base_/models/toy_deeplabv3.py',
    '../_base_/schedules/maskd_tokens_schedule.py',
    '../_base_/toy_runtime.py',
]
max_iters = 500
model = dict(
    _scope_='mmrazor',
    type='MasKDTokenTrainer',
    teacher={{_base_.toy_teacher_model}},
    # written by `make demo` (tools/demo.py), as in the toy RDD configs;
    # override with --cfg-options model.teacher_ckpt=PATH
    teacher_ckpt='work_dirs/demo/teacher.pth',
    num_tokens=8)
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
# the model predicts nothing: no validation, no test
val_cfg = val_dataloader = val_evaluator = None
test_cfg = test_dataloader = test_evaluator = None
