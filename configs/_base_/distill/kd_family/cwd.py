# CWD on features and logits + pixel KD as in CIRKD's scripts/train_kd/
# train_cwd.sh (--lambda-cwd-fea 50 --lambda-cwd-logit 3 --lambda-kd 1, one
# CriterionCWD with T = 4 for both; its adversarial term is not included):
# MMRazor's ChannelWiseDivergence, which is that formula. The student's
# feature (input of conv_seg, 128 channels) goes through a learned 1x1
# convolution without bias to the teacher's 512 (MMRazor
# ConvModuleConnector), trained with the student, as in the reference. The
# pixel KD is the experiment's base (pixel_kd of ../rdd_logits.py).
# A variable, not `model`: what the method adds to the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
_base_ = ['./decode_feature.py']
kd_distiller = dict(
    student_recorders=dict(feat=_base_.decode_feature),
    teacher_recorders=dict(feat=_base_.decode_feature),
    connectors=dict(cwd_proj=_base_.decode_feature_proj),
    distill_losses=dict(
        loss_cwd_feat=dict(
            type='ChannelWiseDivergence', tau=4.0, loss_weight=50.0),
        loss_cwd_logits=dict(
            type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0)),
    loss_forward_mappings=dict(
        loss_cwd_feat=dict(
            preds_S=dict(
                from_student=True,
                recorder='feat',
                data_idx=0,
                connector='cwd_proj'),
            preds_T=dict(from_student=False, recorder='feat', data_idx=0)),
        loss_cwd_logits=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits'))))
