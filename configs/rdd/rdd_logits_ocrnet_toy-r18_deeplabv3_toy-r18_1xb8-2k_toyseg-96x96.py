# Toy version of OCRNet -> DeepLabV3 (cascade teacher): a
# CascadeEncoderDecoder teacher with [FCNHead, OCRHead] on a narrow R18 ->
# the toy DeepLabV3 student. RDD's defaults: the teacher's main head is the
# OCR stage (decode_head.1), TFE's second view is the FCN stage
# (decode_head.0); in TSE the student's decode head pairs with decode_head.1
# and its auxiliary head with decode_head.0. The KD recorders read the OCR
# stage's logits (decode_head.1.conv_seg).
# No toy OCRNet teacher is published: without teacher_ckpt the teacher
# keeps its initialisation (a smoke test of the pair); train one with MMSeg
# and pass --cfg-options model.teacher_ckpt=PATH.
_base_ = [
    '../_base_/distill/toyseg_rdd.py',
    # the toy OCRNet teacher and (inherited) the toy DeepLabV3 pair
    '../_base_/models/toy_ocrnet_teacher.py',
]
model = dict(
    architecture={{_base_.toy_student_model}},
    teacher={{_base_.toy_ocrnet_teacher_model}},
    teacher_ckpt=None,
    distiller=dict(
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs',
                        source='decode_head.1.conv_seg'))))
