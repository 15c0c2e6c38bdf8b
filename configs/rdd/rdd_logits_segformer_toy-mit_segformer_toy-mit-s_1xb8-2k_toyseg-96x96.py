# Toy version of SegFormer MiT-B5 -> MiT-B0: a tiny MixVisionTransformer
# teacher -> a tinier one, both with a SegformerHead only (no auxiliary
# heads). TFE uses the teacher's flipped view (our extension); only the
# student's decode head is weighted.
# No toy SegFormer teacher is published: without teacher_ckpt the teacher
# keeps its initialisation (a smoke test of the pair); train one with MMSeg
# and pass --cfg-options model.teacher_ckpt=PATH.
_base_ = [
    '../_base_/distill/toyseg_rdd.py',
    '../_base_/models/toy_segformer.py',
]
model = dict(
    architecture={{_base_.toy_segformer_student_model}},
    teacher={{_base_.toy_segformer_teacher_model}},
    teacher_ckpt=None,
    # TFE's second view: the teacher on the flipped batch
    distiller=dict(tfe=dict(second_view='flip')))
