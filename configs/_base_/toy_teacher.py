# Toy teacher: DeepLabV3 ResNetV1c-50 (width 1/4), 1x8 crops of 96x96,
# trained from scratch on ToySeg. Run: python tools/train.py configs/_base_/toy_teacher.py
_base_ = [
    './datasets/toyseg.py', './models/toy_deeplabv3_teacher.py',
    './schedules/toy_schedule.py', './toy_runtime.py'
]
model = {{_base_.toy_teacher_model}}
# The teacher trains twice as long as the students (as MMSeg's published
# teachers do): 2k iterations.
train_cfg = dict(max_iters=2000, val_interval=2000)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=2000,
        by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=2000))
