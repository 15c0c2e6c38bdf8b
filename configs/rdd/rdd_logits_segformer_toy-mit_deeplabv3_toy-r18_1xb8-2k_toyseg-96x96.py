# Toy version of SegFormer -> DeepLabV3 (Transformer -> CNN): a tiny
# MixVisionTransformer + SegformerHead teacher (no auxiliary head, logits at
# 1/4: 24x24 on a 96x96 crop) -> the toy DeepLabV3 student (decode and
# auxiliary head, logits at 1/8: 12x12). TFE uses the teacher's flipped view
# (our extension); the pixel KL resizes the teacher's logits to the
# student's size (RDDWeightedKLDivergence, resize_to='student').
# No toy SegFormer teacher is published: without teacher_ckpt the teacher
# keeps its initialisation (a smoke test of the pair); train one with MMSeg
# and pass --cfg-options model.teacher_ckpt=PATH.
_base_ = [
    '../_base_/datasets/toyseg.py',
    '../_base_/models/toy_segformer_teacher.py',
    '../_base_/models/toy_deeplabv3_student.py',
    '../_base_/schedules/toy_schedule.py',
    '../_base_/toy_runtime.py',
    '../_base_/distill/rdd_logits.py',
]
model = dict(
    architecture={{_base_.toy_student_model}},
    teacher={{_base_.toy_segformer_teacher_model}},
    teacher_ckpt=None,
    distiller=dict(
        # 10% of the schedule, as 4000 of 40000 in the reference
        switch_iter=200,
        # TFE's second view: the teacher on the flipped batch
        tfe=dict(second_view='flip'),
        # 4.77% of 8x96x96 label pixels, as 100000 of 4x512x1024
        tse=dict(min_kept=3500),
        distill_losses=dict(loss_kl=dict(resize_to='student'))))
