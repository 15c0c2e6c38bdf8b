# RDD on top of pixel KD of the decode-head logits (the reference setting).
# Experiment configs add `architecture`, `teacher` and `teacher_ckpt`, and
# custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
# (in a runtime base, or the experiment config itself).

# Pixel KD of the decode-head logits: KL(P(T) || P(S)) per pixel, mean over
# all B*h*w pixels, T=1, w=1. The RDD distiller below runs it; the one-stage
# kd_logits_* configs run it alone (MMRazor's ConfigurableDistiller), and
# kd_family/*.py add to it.
pixel_kd = dict(
    student_recorders=dict(
        logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
    teacher_recorders=dict(
        logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
    distill_losses=dict(
        loss_kl=dict(type='WeightedKLDivergence', tau=1.0, loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_kl=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits'))))
model = dict(
    _scope_='mmrazor',
    type='FrozenTeacherDistill',
    distiller=dict(
        type='RDDDistiller',
        # TFE for iterations [0, switch_iter), TSE afterwards; 4000 of the
        # reference's 40k: mmrdd.models.distillers.reference_switch_iter
        switch_iter=4000,
        # stage 1: w = exp(-KL(P(Ta) || P(T))), resized to the label size
        tfe=dict(type='RDDTFEDifficulty', direction='aux_main'),
        # stage 2: OHEM hard pixels of student XOR teacher
        tse=dict(
            type='RDDTSEDifficulty',
            thresh=0.7,
            min_kept=100000,
            mode='xor',
            class_weight=None),
        **pixel_kd))

# RDDStageHook sets the stage of every iteration from runner.iter;
# RDDSelectionWatchHook warns when TSE selected nothing for a logging
# interval; TeacherCheckHook scores the teacher on the first validation
# batches before iteration 0 and stops below min_miou (mIoU points);
# RDDDifficultyVisHook sends a picture of what RDD sees to the visualizer
# every `interval` iterations.
custom_hooks = [
    dict(type='RDDStageHook'),
    dict(type='RDDSelectionWatchHook'),
    dict(type='TeacherCheckHook', min_miou=10.0, num_batches=8),
    dict(type='RDDDifficultyVisHook', interval=500),
]
# Overrides the teacher check by name, e.g.
# --cfg-options teacher_check.min_miou=0 (log only) or
# teacher_check.num_batches=0 (skip); a config sets its data set's floor here.
teacher_check = dict()
