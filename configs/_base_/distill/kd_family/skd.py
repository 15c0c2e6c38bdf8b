# SKD (pair-wise term) + pixel KD as in CIRKD's scripts/train_kd/
# train_skd.sh (--lambda-skd 10 --lambda-kd 1; its adversarial holistic term
# is not included), on the decode head's last feature (input of conv_seg).
kd_student_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    feat=dict(type='ModuleInputs', source='decode_head.conv_seg'))
kd_teacher_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    feat=dict(type='ModuleInputs', source='decode_head.conv_seg'))
kd_connectors = dict()
kd_losses = dict(
    loss_kl=dict(type='RDDWeightedKLDivergence', tau=1.0, loss_weight=1.0),
    loss_skd=dict(type='SKDLoss', pool=2, loss_weight=10.0))
kd_mappings = dict(
    loss_kl=dict(
        preds_S=dict(from_student=True, recorder='logits'),
        preds_T=dict(from_student=False, recorder='logits')),
    loss_skd=dict(
        preds_S=dict(from_student=True, recorder='feat', data_idx=0),
        preds_T=dict(from_student=False, recorder='feat', data_idx=0)))
