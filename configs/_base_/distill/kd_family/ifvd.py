# IFVD + pixel KD. Weights: IFV 20, pixel KD 1 (--lambda-ifv 20.
# --lambda-kd 1.0 in winycg/CIRKD scripts/train_kd/train_ifvd.sh; its
# adversarial term, --lambda-adv 0.001 --lambda-d 0.1, is not included);
# CriterionIFV (losses/ifvd.py, class-centre eps 1e-6, cosine eps 1e-8), on
# the decode head's last feature (input of conv_seg) and the labels (second
# input of the student's decode_head.loss_decode); 19 Cityscapes classes.
# The pixel KD is the experiment's base (pixel_kd of ../rdd_logits.py).
# A variable, not `model`: what the method adds to the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
_base_ = ['./decode_feature.py']
kd_distiller = dict(
    student_recorders=dict(
        feat=_base_.decode_feature, gt=_base_.decode_labels),
    teacher_recorders=dict(feat=_base_.decode_feature),
    connectors=dict(),
    distill_losses=dict(
        loss_ifvd=dict(type='IFVDLoss', num_classes=19, loss_weight=20.0)),
    loss_forward_mappings=dict(
        loss_ifvd=dict(
            preds_S=dict(from_student=True, recorder='feat', data_idx=0),
            preds_T=dict(from_student=False, recorder='feat', data_idx=0),
            gt_labels=dict(from_student=True, recorder='gt', data_idx=1))))
