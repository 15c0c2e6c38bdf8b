# KT (Knowledge Tailoring) as in seok-hwa/KT train_KT.py run by train_KT.sh
# (DeepLabV3-R101 -> DeepLabV3-R18, Cityscapes): every loss at temperature
# 4 (`--kd-temperature` default 4.0), no pixel KL (the `_delete_` keys drop
# the base's loss_kl):
# - logit KD 1 (`--lambda-kd 1.0`): the script's CriterionKD (losses/kd.py)
#   is a channel-wise divergence, MMRazor's ChannelWiseDivergence(tau=4), on
#   the decode-head logits, and 0.4 x 1 on the auxiliary-head logits
#   (`0.4 * lambda_kd` inside `lambda_kd * (...)`);
# - logit tailoring 1 (`--lambda-mask 1.0`), with the labels;
# - feature tailoring 1 (`--lambda-custom 1.0`) and its triplet contrast 1
#   (`--lambda-contrastive 1.0`), on the decode head's last feature (input
#   of conv_seg; the official `x_feat_after_aspp`): DeepLabV3-R18-D8 128
#   channels, MMSeg's DeepLabV3-R101-D8 teacher 512 (the official R101 has
#   256); the student is tailored to the teacher before iteration 10000
#   (`--tuning-point` default 10000), the teacher to the student after. The
#   tailoring MLPs and the 1x1 convolution stay at their random
#   initialisation, as in the official code, whose optimizer holds the
#   student only (train_modules=False).
# The official script also sets weight decay 5e-4 (`--weight-decay`
# default); the experiment configs set it (kt_optim_wrapper).
# A variable, not `model`: what the method changes in the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
_base_ = ['./decode_feature.py']
aux_logits = dict(type='ModuleOutputs', source='auxiliary_head.conv_seg')
kd_distiller = dict(
    student_recorders=dict(
        aux_logits=aux_logits,
        feat=_base_.decode_feature,
        gt=_base_.decode_labels),
    teacher_recorders=dict(aux_logits=aux_logits, feat=_base_.decode_feature),
    connectors=dict(),
    distill_losses=dict(
        _delete_=True,
        loss_kd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=1.0),
        loss_kd_aux=dict(
            type='ChannelWiseDivergence', tau=4.0, loss_weight=0.4),
        loss_kt_logits=dict(
            type='KTLogitTailoringLoss',
            tau=4.0,
            ignore_index=255,
            loss_weight=1.0),
        loss_kt_feat=dict(
            type='KTFeatureTailoringLoss',
            student_channels=128,
            teacher_channels=512,
            tuning_iter=10000,
            tau=4.0,
            margin=1.0,
            ft_weight=1.0,
            contrastive_weight=1.0,
            train_modules=False)),
    loss_forward_mappings=dict(
        _delete_=True,
        loss_kd=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits')),
        loss_kd_aux=dict(
            preds_S=dict(from_student=True, recorder='aux_logits'),
            preds_T=dict(from_student=False, recorder='aux_logits')),
        loss_kt_logits=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits'),
            gt_labels=dict(from_student=True, recorder='gt', data_idx=1)),
        loss_kt_feat=dict(
            preds_S=dict(from_student=True, recorder='feat', data_idx=0),
            preds_T=dict(from_student=False, recorder='feat', data_idx=0))))
# train_KT.py's SGD weight decay (the other settings are the schedule's)
kt_optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
# DeepLabV3-MobileNetV2 student: the official script has no auxiliary head
# for MobileNetV2 students (`args.aux = False`), hence no auxiliary KD; the
# decode head's last feature of MMSeg's DeepLabV3-MobileNetV2 has 512
# channels (the official one 128).
kd_distiller_mbv2 = dict(
    student_recorders=dict(
        feat=_base_.decode_feature, gt=_base_.decode_labels),
    teacher_recorders=dict(feat=_base_.decode_feature),
    connectors=dict(),
    distill_losses=dict(
        _delete_=True,
        loss_kd=kd_distiller['distill_losses']['loss_kd'],
        loss_kt_logits=kd_distiller['distill_losses']['loss_kt_logits'],
        loss_kt_feat=dict(
            kd_distiller['distill_losses']['loss_kt_feat'],
            student_channels=512)),
    loss_forward_mappings=dict(
        _delete_=True,
        **{
            k: v
            for k, v in kd_distiller['loss_forward_mappings'].items()
            if k not in ('_delete_', 'loss_kd_aux')
        }))
# The toy pair (../../models/toy_deeplabv3.py): decode-head features of 32
# (student) and 64 (teacher) channels; the teacher tailored from iteration
# 500 of the 2k toy schedule (a quarter, as 10000 of 40000).
kd_distiller_toy = dict(
    kd_distiller,
    distill_losses=dict(
        kd_distiller['distill_losses'],
        loss_kt_feat=dict(
            kd_distiller['distill_losses']['loss_kt_feat'],
            student_channels=32,
            teacher_channels=64,
            tuning_iter=500)))
