# RDD for a SegFormer MiT-B0 student trained on its own MMSeg recipe (AdamW,
# 160k iterations: ../schedules/segformer_schedule_160k.py) from a SegFormer
# teacher, TFE for the first 16k iterations. Neither model has an auxiliary
# head: TFE's second view is the teacher's prediction on the flipped batch
# (tfe.second_view='flip', an mmrdd extension, not in the paper); only the
# student's decode head is weighted. Both models are MMSeg configs
# (cfg_path) built with pretrained=False, without MMSeg's trained weights:
# the student starts from its config's ImageNet backbone, the teacher's
# weights are teacher_ckpt.
# An experiment config adds the data set, the batch and the models:
#     _base_ = ['mmseg::_base_/datasets/...',
#               '../_base_/distill/segformer_mit-b0_recipe_rdd.py']
#     model = dict(architecture=dict(cfg_path=...),
#                  teacher=dict(cfg_path=...), teacher_ckpt=...,
#                  distiller=dict(tse=dict(min_kept=..., class_weight=...)))
_base_ = [
    'mmseg::_base_/default_runtime.py',
    '../schedules/segformer_schedule_160k.py',
    './rdd_logits.py',
]
custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
model = dict(
    architecture=dict(pretrained=False),
    teacher=dict(pretrained=False),
    distiller=dict(
        # reference_switch_iter(160000): 10%, as 4000 of 40000
        switch_iter=16000,
        tfe=dict(second_view='flip')))
