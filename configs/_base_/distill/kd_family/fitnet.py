# FitNet + pixel KD as in CIRKD's scripts/train_kd/train_fitnet.sh
# (--lambda-fitnet 10 --lambda-kd 1): the mean squared error between the
# student's decode-head feature (input of conv_seg, 128 channels) through a
# learned 1x1 convolution without bias (MMRazor ConvModuleConnector, trained
# with the student) and the teacher's (512 channels): MMRazor's L2Loss with
# normalize=False, div_element=True is that formula.
kd_student_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    feat=dict(type='ModuleInputs', source='decode_head.conv_seg'))
kd_teacher_recorders = dict(
    logits=dict(type='ModuleOutputs', source='decode_head.conv_seg'),
    feat=dict(type='ModuleInputs', source='decode_head.conv_seg'))
kd_connectors = dict(
    fitnet_proj=dict(
        type='ConvModuleConnector',
        in_channel=128,
        out_channel=512,
        bias=False,
        norm_cfg=None,
        act_cfg=None))
kd_losses = dict(
    loss_kl=dict(type='RDDWeightedKLDivergence', tau=1.0, loss_weight=1.0),
    loss_fitnet=dict(
        type='L2Loss', normalize=False, div_element=True, loss_weight=10.0))
kd_mappings = dict(
    loss_kl=dict(
        preds_S=dict(from_student=True, recorder='logits'),
        preds_T=dict(from_student=False, recorder='logits')),
    loss_fitnet=dict(
        s_feature=dict(
            from_student=True,
            recorder='feat',
            data_idx=0,
            connector='fitnet_proj'),
        t_feature=dict(from_student=False, recorder='feat', data_idx=0)))
