# RDD on the toy data set: toy DeepLabV3 teacher (narrow R50) -> toy
# DeepLabV3 student (narrow R18), 1 process x 8 crops of 96x96, 1k iterations.
_base_ = [
    '../datasets/toyseg.py',
    '../models/toy_deeplabv3_teacher.py',
    '../models/toy_deeplabv3_student.py',
    '../schedules/toy_schedule.py',
    '../toy_runtime.py',
    './rdd_logits.py',
]
model = dict(
    architecture={{_base_.toy_student_model}},
    teacher={{_base_.toy_teacher_model}},
    # written by `make demo` (tools/demo.py); override with
    # --cfg-options model.teacher_ckpt=PATH
    teacher_ckpt='work_dirs/demo/teacher.pth',
    distiller=dict(
        # 10% of the schedule, as 4000 of 40000 in the reference
        switch_iter=100,
        # the reference's share of hard pixels: 100000 of 4x512x1024 = 4.77%;
        # here 4.77% of 8x96x96 = 73728 pixels
        tse=dict(min_kept=3500)))
