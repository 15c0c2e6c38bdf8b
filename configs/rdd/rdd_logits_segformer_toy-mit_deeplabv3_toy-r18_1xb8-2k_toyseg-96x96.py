# Toy version of SegFormer -> DeepLabV3 (Transformer -> CNN): the teacher of
# the toy SegFormer pair (tiny MixVisionTransformer + SegformerHead, no
# auxiliary head, logits at 1/4: 24x24 on a 96x96 crop; TFE on its flipped
# view) and the toy DeepLabV3 student (decode and auxiliary head, logits at
# 1/8: 12x12); the pixel KL resizes the
# teacher's logits to the student's size (WeightedKLDivergence,
# resize_to='student'). No toy SegFormer teacher is published: as there,
# teacher_ckpt=None (a smoke test of the pair) unless
# --cfg-options model.teacher_ckpt=PATH.
_base_ = [
    '../_base_/distill/toyseg_rdd.py',
    # the toy SegFormer pair and (inherited) the toy DeepLabV3 pair
    '../_base_/models/toy_segformer.py',
]
model = dict(
    architecture={{_base_.toy_student_model}},
    teacher={{_base_.toy_segformer_teacher_model}},
    teacher_ckpt=None,
    distiller=dict(
        # TFE's second view: the teacher on the flipped batch
        tfe=dict(second_view='flip'),
        distill_losses=dict(loss_kl=dict(resize_to='student'))))
