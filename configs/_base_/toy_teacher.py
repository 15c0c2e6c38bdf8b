# Toy teacher: DeepLabV3 ResNetV1c-50 (width 1/4), 1x8 crops of 96x96,
# trained from scratch on ToySeg. Run: python tools/train.py configs/_base_/toy_teacher.py
_base_ = [
    './datasets/toyseg.py', './models/toy_deeplabv3_teacher.py',
    './schedules/toy_schedule.py', './toy_runtime.py'
]
model = {{_base_.toy_teacher_model}}
