# AT + pixel KD. Weights: AT 10000 (--lambda-at 10000. in winycg/CIRKD
# scripts/train_kd/train_at.sh and in sunyueue/RDD train_scripts/
# exp_table_5), pixel KD 1 at T 1 (--lambda-kd 1.0 there; T: train_kd.py's
# --kd-temperature default 1.0). Attention transfer on the decode head's
# last feature (the input of conv_seg; the reference's `x_feat_after_aspp`)
# with MMRazor's ATLoss, the official CriterionAT (losses/at.py). The pixel
# KL on the decode-head logits is the experiment's base (pixel_kd of
# ../rdd_logits.py). Equal to the official code: docs/kd_family.md#at.
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
