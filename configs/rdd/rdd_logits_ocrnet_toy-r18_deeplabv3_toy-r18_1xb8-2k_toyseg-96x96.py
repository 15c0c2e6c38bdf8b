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
    '../_base_/datasets/toyseg.py',
    # the toy OCRNet teacher and (inherited) the toy DeepLabV3 pair
    '../_base_/models/toy_ocrnet_teacher.py',
    '../_base_/schedules/toy_schedule.py',
    '../_base_/toy_runtime.py',
    '../_base_/distill/rdd_logits.py',
]
model = dict(
    architecture={{_base_.toy_student_model}},
    teacher={{_base_.toy_ocrnet_teacher_model}},
    teacher_ckpt=None,
    distiller=dict(
        # 10% of the schedule, as 4000 of 40000 in the reference
        switch_iter=200,
        # 4.77% of 8x96x96 label pixels, as 100000 of 4x512x1024
        tse=dict(min_kept=3500),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs',
                        source='decode_head.1.conv_seg'))))
