# CWD on features and logits + pixel KD. Weights: features 50, logits 3,
# pixel KD 1 (--lambda-cwd-fea 50. --lambda-cwd-logit 3. --lambda-kd 1.0 in
# winycg/CIRKD scripts/train_kd/train_cwd.sh; its adversarial term,
# --lambda-adv 0.001 --lambda-d 0.1, is not included); T 4 for both (fixed
# in train_kd.py: one CriterionCWD(s_channels, t_channels, 'channel',
# 'kl', temperature=4.)). MMRazor's ChannelWiseDivergence is that formula.
# The student's feature (input of conv_seg, 128 channels) goes through a
# learned 1x1 convolution without bias to the teacher's 512 (MMRazor
# ConvModuleConnector, the official `self.conv`), trained with the student.
# Deviation (an official bug, not copied): with that projection the official
# code divides by the student's 128 channels, ours by the 512 summed over,
# so ours = official x 128 / 512; equal at equal widths (CIRKD's own models);
# x4 loss_weight reproduces the official scale (docs/kd_family.md#cwd). The
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
