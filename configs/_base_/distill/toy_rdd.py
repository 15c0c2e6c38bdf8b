# RDD on the toy data set: toy DeepLabV3 teacher (narrow R50, 4k iterations)
# -> toy DeepLabV3 student (narrow R18), 1 process x 8 crops of 96x96, 2k
# iterations. RDD's settings are the paper's defaults scaled by fixed rules,
# not tuned on the toy data: thresh 0.7, XOR, switch at 10% of the schedule,
# min_kept the reference's share of a batch.
_base_ = [
    '../datasets/toyseg.py',
    '../models/toy_deeplabv3.py',
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
        switch_iter=200,
        # the reference's share of hard pixels: 100000 of 4x512x1024 pixels
        # (4.77%); here 100000 * (8*96*96) / (4*512*1024) = 3516, rounded
        # as in configs/rdd/README.md to 3500
        tse=dict(min_kept=3500)))
