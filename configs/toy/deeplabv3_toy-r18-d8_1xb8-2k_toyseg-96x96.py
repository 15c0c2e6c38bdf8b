# Toy student: DeepLabV3 ResNetV1c-18 (width 1/4), 1x8 crops of 96x96,
# trained alone from scratch on ToySeg for 2k iterations (the baseline of
# the RDD toy runs).
_base_ = [
    '../_base_/datasets/toyseg.py',
    '../_base_/models/toy_deeplabv3.py',
    '../_base_/schedules/toy_schedule.py',
    '../_base_/toy_runtime.py',
]
model = {{_base_.toy_student_model}}
