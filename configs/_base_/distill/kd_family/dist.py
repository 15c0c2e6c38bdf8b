# DIST. Weights: decode-head logits 1 (--lambda-kd, default 1. in hunto/
# DIST_KD segmentation/train_kd.py; its scripts do not set it), auxiliary-
# head logits 0.4 (train_kd.py's fixed `0.4 * lambda_kd`); beta = gamma = 1
# (DIST() defaults, segmentation/losses/dist_kd.py), no temperature (tau
# 1). Over pixel rows (SegDISTLoss); it replaces the pixel KD (the
# `_delete_` keys drop the base's loss_kl).
# A variable, not `model`: what the method changes in the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
kd_distiller = dict(
    student_recorders=dict(
        aux_logits=dict(
            type='ModuleOutputs', source='auxiliary_head.conv_seg')),
    teacher_recorders=dict(
        aux_logits=dict(
            type='ModuleOutputs', source='auxiliary_head.conv_seg')),
    connectors=dict(),
    distill_losses=dict(
        _delete_=True,
        loss_dist=dict(type='SegDISTLoss', loss_weight=1.0),
        loss_dist_aux=dict(type='SegDISTLoss', loss_weight=0.4)),
    loss_forward_mappings=dict(
        _delete_=True,
        loss_dist=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits')),
        loss_dist_aux=dict(
            preds_S=dict(from_student=True, recorder='aux_logits'),
            preds_T=dict(from_student=False, recorder='aux_logits'))))
