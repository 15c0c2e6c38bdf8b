# IFVD + pixel KD as in CIRKD's scripts/train_kd/train_ifvd.sh
# (--lambda-ifv 20 --lambda-kd 1; its adversarial term is not included), on
# the decode head's last feature (input of conv_seg) and the labels (second
# input of the student's decode_head.loss_decode); 19 Cityscapes classes.
kd_student_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    feat=dict(type='ModuleInputs', source='decode_head.conv_seg'),
    gt=dict(type='ModuleInputs', source='decode_head.loss_decode'))
kd_teacher_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    feat=dict(type='ModuleInputs', source='decode_head.conv_seg'))
kd_connectors = dict()
kd_losses = dict(
    loss_kl=dict(type='RDDWeightedKLDivergence', tau=1.0, loss_weight=1.0),
    loss_ifvd=dict(type='IFVDLoss', num_classes=19, loss_weight=20.0))
kd_mappings = dict(
    loss_kl=dict(
        preds_S=dict(from_student=True, recorder='logits'),
        preds_T=dict(from_student=False, recorder='logits')),
    loss_ifvd=dict(
        preds_S=dict(from_student=True, recorder='feat', data_idx=0),
        preds_T=dict(from_student=False, recorder='feat', data_idx=0),
        gt_labels=dict(from_student=True, recorder='gt', data_idx=1)))
