# Toy version of SegFormer -> DeepLabV3 (Transformer -> CNN): the toy
# SegFormer pair config (tiny MixVisionTransformer + SegformerHead teacher,
# no auxiliary head, logits at 1/4: 24x24 on a 96x96 crop; TFE on its
# flipped view) with the toy DeepLabV3 student in place of the SegFormer one
# (decode and auxiliary head, logits at 1/8: 12x12); the pixel KL resizes the
# teacher's logits to the student's size (WeightedKLDivergence,
# resize_to='student'). No toy SegFormer teacher is published: as there,
# teacher_ckpt=None (a smoke test of the pair) unless
# --cfg-options model.teacher_ckpt=PATH.
_base_ = [
    './rdd_logits_segformer_toy-mit_segformer_toy-mit-s_1xb8-2k_toyseg-96x96.py'  # noqa: E501
]
model = dict(
    # another model type: replaces the SegFormer student instead of merging
    architecture=dict(_base_.toy_student_model, _delete_=True),
    distiller=dict(distill_losses=dict(loss_kl=dict(resize_to='student'))))
