# RDD on top of pixel KD of the decode-head logits (the reference setting).
# Experiment configs add `architecture`, `teacher` and `teacher_ckpt`, and
# custom_imports = dict(imports=['mmrdd'], allow_failed_imports=False)
# (in a runtime base, or the experiment config itself).

model = dict(
    _scope_='mmrazor',
    type='RDDSingleTeacherDistill',
    distiller=dict(
        type='RDDDistiller',
        # TFE for iterations [0, switch_iter), TSE afterwards
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
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        # KL(P(T) || P(S)) per pixel, mean over all B*h*w pixels, T=1, w=1
        distill_losses=dict(
            loss_kl=dict(
                type='RDDWeightedKLDivergence', tau=1.0, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))

# Sets the stage of every iteration from runner.iter; warns when TSE selected
# nothing for a logging interval.
custom_hooks = [
    dict(type='RDDStageHook'),
    dict(type='RDDSelectionWatchHook'),
]
