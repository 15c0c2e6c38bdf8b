# SKD (pair-wise term) + pixel KD. Weights: SKD 10, pixel KD 1
# (--lambda-skd 10 --lambda-kd 1. in winycg/CIRKD scripts/train_kd/
# train_skd.sh; its adversarial holistic term, --lambda-adv 0.001
# --lambda-d 0.1, is not included); 2x2 max pooling fixed in
# CriterionStructuralKD (losses/skd.py). On the decode head's last feature
# (input of conv_seg).
# The pixel KD is the experiment's base (pixel_kd of ../rdd_logits.py).
# A variable, not `model`: what the method adds to the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
_base_ = ['./decode_feature.py']
kd_distiller = dict(
    student_recorders=dict(feat=_base_.decode_feature),
    teacher_recorders=dict(feat=_base_.decode_feature),
    connectors=dict(),
    distill_losses=dict(
        loss_skd=dict(type='SKDLoss', pool=2, loss_weight=10.0)),
    loss_forward_mappings=dict(
        loss_skd=dict(
            preds_S=dict(from_student=True, recorder='feat', data_idx=0),
            preds_T=dict(from_student=False, recorder='feat', data_idx=0))))
