# AT + pixel KD as in the RDD reference (train_scripts/exp_table_5,
# --lambda-at 10000 --lambda-kd 1): attention transfer on the decode head's
# last feature (the input of conv_seg; the reference's `x_feat_after_aspp`)
# with MMRazor's ATLoss. The pixel KL on the decode-head logits is the
# experiment's base (pixel_kd of ../rdd_logits.py).
# A variable, not `model`: what the method adds to the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
_base_ = ['./decode_feature.py']
kd_distiller = dict(
    student_recorders=dict(feat=_base_.decode_feature),
    teacher_recorders=dict(feat=_base_.decode_feature),
    connectors=dict(),
    distill_losses=dict(loss_at=dict(type='ATLoss', loss_weight=10000.0)),
    loss_forward_mappings=dict(
        loss_at=dict(
            s_feature=dict(from_student=True, recorder='feat', data_idx=0),
            t_feature=dict(from_student=False, recorder='feat', data_idx=0))))
