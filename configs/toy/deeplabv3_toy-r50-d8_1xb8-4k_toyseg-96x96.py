# Toy teacher: DeepLabV3 ResNetV1c-50 (width 1/4), 1x8 crops of 96x96,
# trained from scratch on ToySeg for 4k iterations, twice the students'
# schedule, so that it stays clearly ahead of the student-alone plateau
# (README, "The two commands"). `make demo` trains it once and caches it as
# work_dirs/demo/teacher.pth. Alone:
#   python tools/train.py \
#       configs/toy/deeplabv3_toy-r50-d8_1xb8-4k_toyseg-96x96.py
_base_ = [
    '../_base_/datasets/toyseg.py',
    '../_base_/models/toy_deeplabv3.py',
    '../_base_/schedules/toy_schedule_4k.py',
    '../_base_/toy_runtime.py',
]
model = {{_base_.toy_teacher_model}}
