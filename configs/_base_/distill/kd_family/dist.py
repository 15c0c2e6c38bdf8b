# DIST as in hunto/DIST_KD segmentation/train_kd.py (beta = gamma = 1,
# tau 1): on the decode-head logits with weight 1 and on the auxiliary-head
# logits with weight 0.4, over pixel rows (RDDSegDISTLoss); it replaces the
# pixel KD.
kd_student_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    aux_logits=dict(type='ModuleOutputs', source='auxiliary_head.conv_seg'))
kd_teacher_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    aux_logits=dict(type='ModuleOutputs', source='auxiliary_head.conv_seg'))
kd_connectors = dict()
kd_losses = dict(
    loss_dist=dict(type='RDDSegDISTLoss', loss_weight=1.0),
    loss_dist_aux=dict(type='RDDSegDISTLoss', loss_weight=0.4))
kd_mappings = dict(
    loss_dist=dict(
        preds_S=dict(from_student=True, recorder='logits'),
        preds_T=dict(from_student=False, recorder='logits')),
    loss_dist_aux=dict(
        preds_S=dict(from_student=True, recorder='aux_logits'),
        preds_T=dict(from_student=False, recorder='aux_logits')))
