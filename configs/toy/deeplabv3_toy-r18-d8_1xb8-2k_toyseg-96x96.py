# Toy student: DeepLabV3 ResNetV1c-18 (width 1/4), 1x8 crops of 96x96,
# trained alone from scratch on ToySeg (the baseline of the RDD toy runs).
_base_ = [
    './datasets/toyseg.py', './models/toy_deeplabv3_student.py',
    './schedules/toy_schedule.py', './toy_runtime.py'
]
model = {{_base_.toy_student_model}}
