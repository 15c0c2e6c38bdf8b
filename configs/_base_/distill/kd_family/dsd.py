# DSD. Weights: pixel similarity 1000, category similarity 10, no pixel KD
# (--lambda-psd 1000. --lambda-csd 10. in winycg/CIRKD scripts/train_kd/
# train_dsd.sh and sunyueue/RDD train_scripts/exp_table_5; the `_delete_`
# keys drop the base's loss_kl); category T 4 and 2x2 average pooling fixed
# in CriterionCSD (losses/dsd.py). Pixel similarity over the
# auxiliary-head logits, the decode head's last feature (input of conv_seg)
# and the decode-head logits, in train_kd.py's order; category similarity on
# the decode-head logits.
# A variable, not `model`: what the method changes in the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
_base_ = ['./decode_feature.py']
kd_distiller = dict(
    student_recorders=dict(
        aux_logits=dict(
            type='ModuleOutputs', source='auxiliary_head.conv_seg'),
        feat=_base_.decode_feature),
    teacher_recorders=dict(
        aux_logits=dict(
            type='ModuleOutputs', source='auxiliary_head.conv_seg'),
        feat=_base_.decode_feature),
    connectors=dict(),
    distill_losses=dict(
        _delete_=True,
        loss_psd=dict(type='DSDPixelSimilarityLoss', loss_weight=1000.0),
        loss_csd=dict(
            type='DSDCategorySimilarityLoss',
            tau=4.0,
            pool=2,
            loss_weight=10.0)),
    loss_forward_mappings=dict(
        _delete_=True,
        loss_psd=dict(
            preds_S_0=dict(from_student=True, recorder='aux_logits'),
            preds_T_0=dict(from_student=False, recorder='aux_logits'),
            preds_S_1=dict(from_student=True, recorder='feat', data_idx=0),
            preds_T_1=dict(from_student=False, recorder='feat', data_idx=0),
            preds_S_2=dict(from_student=True, recorder='logits'),
            preds_T_2=dict(from_student=False, recorder='logits')),
        loss_csd=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits'))))
