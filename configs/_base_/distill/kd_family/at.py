# AT + pixel KD as in the RDD reference (train_scripts/exp_table_5,
# --lambda-at 10000 --lambda-kd 1): attention transfer on the decode head's
# last feature (the input of conv_seg; the reference's `x_feat_after_aspp`)
# with MMRazor's ATLoss, plus pixel KL on the decode-head logits.
# Variables, not `model`: an experiment config puts them into its distiller.
kd_student_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    feat=dict(type='ModuleInputs', source='decode_head.conv_seg'))
kd_teacher_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    feat=dict(type='ModuleInputs', source='decode_head.conv_seg'))
kd_connectors = dict()
kd_losses = dict(
    loss_kl=dict(type='RDDWeightedKLDivergence', tau=1.0, loss_weight=1.0),
    loss_at=dict(type='ATLoss', loss_weight=10000.0))
kd_mappings = dict(
    loss_kl=dict(
        preds_S=dict(from_student=True, recorder='logits'),
        preds_T=dict(from_student=False, recorder='logits')),
    loss_at=dict(
        s_feature=dict(from_student=True, recorder='feat', data_idx=0),
        t_feature=dict(from_student=False, recorder='feat', data_idx=0)))
