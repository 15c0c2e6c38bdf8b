# FitNet + pixel KD. Weights: FitNet 10, pixel KD 1 (--lambda-fitnet 10.
# --lambda-kd 1.0 in winycg/CIRKD scripts/train_kd/train_fitnet.sh),
# CriterionFitNet (losses/fitnet.py): the mean squared error between the
# student's decode-head feature (input of conv_seg, 128 channels) through a
# learned 1x1 convolution without bias (MMRazor ConvModuleConnector, trained
# with the student) and the teacher's (512 channels): MMRazor's L2Loss with
# normalize=False, div_element=True is that formula. The pixel KD is the
# experiment's base (pixel_kd of ../rdd_logits.py).
# A variable, not `model`: what the method adds to the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
_base_ = ['./decode_feature.py']
kd_distiller = dict(
    student_recorders=dict(feat=_base_.decode_feature),
    teacher_recorders=dict(feat=_base_.decode_feature),
    connectors=dict(fitnet_proj=_base_.decode_feature_proj),
    distill_losses=dict(
        loss_fitnet=dict(
            type='L2Loss', normalize=False, div_element=True,
            loss_weight=10.0)),
    loss_forward_mappings=dict(
        loss_fitnet=dict(
            s_feature=dict(
                from_student=True,
                recorder='feat',
                data_idx=0,
                connector='fitnet_proj'),
            t_feature=dict(from_student=False, recorder='feat', data_idx=0))))
