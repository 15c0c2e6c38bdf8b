# Toy version of SegFormer MiT-B5 -> MiT-B0: a tiny MixVisionTransformer
# teacher -> a tinier one, both with a SegformerHead only (no auxiliary
# heads). TFE uses the teacher's flipped view (our extension); only the
# student's decode head is weighted.
# No toy SegFormer teacher is published: without teacher_ckpt the teacher
# keeps its initialisation (a smoke test of the pair); train one with MMSeg
# and pass --cfg-options model.teacher_ckpt=PATH.
_base_ = [
    '../_base_/datasets/toyseg.py',
    '../_base_/models/toy_segformer.py',
    '../_base_/schedules/toy_schedule.py',
    '../_base_/toy_runtime.py',
    '../_base_/distill/rdd_logits.py',
]
model = dict(
    architecture={{_base_.toy_segformer_student_model}},
    teacher={{_base_.toy_segformer_teacher_model}},
    teacher_ckpt=None,
    distiller=dict(
        # 10% of the schedule, as 4000 of 40000 in the reference
        switch_iter=200,
        # TFE's second view: the teacher on the flipped batch
        tfe=dict(second_view='flip'),
        # 4.77% of 8x96x96 label pixels, as 100000 of 4x512x1024
        tse=dict(min_kept=3500)))
