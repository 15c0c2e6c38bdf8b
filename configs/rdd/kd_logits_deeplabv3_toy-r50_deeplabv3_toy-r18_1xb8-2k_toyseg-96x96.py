# Pixel KD alone (the baseline of RDD): KL(P(T) || P(S)) per pixel, T=1,
# weight 1, on the decode-head logits; the student's task loss unweighted.
_base_ = ['../_base_/distill/toy_rdd.py']
model = dict(
    distiller=dict(
        _delete_=True,
        type='ConfigurableDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        distill_losses=dict(
            loss_kl=dict(
                type='RDDWeightedKLDivergence', tau=1.0, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))
custom_hooks = []
