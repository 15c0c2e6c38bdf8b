# RDD on the toy data set: toy DeepLabV3 teacher (narrow R50, 4k iterations)
# -> toy DeepLabV3 student (narrow R18); the setting (data, schedule,
# runtime, RDD scaled to the toy batch) is ./toyseg_rdd.py.
_base_ = ['./toyseg_rdd.py', '../models/toy_deeplabv3.py']
model = dict(
    architecture={{_base_.toy_student_model}},
    teacher={{_base_.toy_teacher_model}},
    # written by `make demo` (tools/demo.py); override with
    # --cfg-options model.teacher_ckpt=PATH
    teacher_ckpt='work_dirs/demo/teacher.pth')
