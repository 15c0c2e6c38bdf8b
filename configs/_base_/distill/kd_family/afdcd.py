# Af-DCD as in OSVAI/Af-DCD train_ocmgd.py run by
# train_scripts/cityscape/deeplabv3_r101_deeplabv3_r18_ocmgd.sh: pixel KD 1
# (`--lambda-kd` default; the experiment's base, pixel_kd of
# ../rdd_logits.py, is that CriterionKD: T 1, mean over pixels), feature
# mimicking 2e-6 (`--lambda-fd 0.000002`) and omni-contrast 0.005
# (`--lambda-ctr 0.005`), on the backbone's last feature (the official `c4`;
# DeepLabV3-R18-D8 student 512 channels, DeepLabV3-R101-D8 teacher 2048);
# tau 0.07, 16 channel groups, 4x4 patches after 4x4 max-pooling, mask ratio
# 0.75 (OmniContrastiveFeatureLoss defaults, losses/ocmgd.py).
# The R18 script asks for `--rand_mask False --enhance_projector True`:
# argparse knows only `--rand-mask`/`--enhance-projector` and stops with
# "unrecognized arguments" (and with the right spelling `type=bool` would
# turn 'False' into True). We follow what the script asks for: the central
# mask and the enhanced projector (README: deviations). The learned 1x1
# alignment and the projector live in the loss, trained with the student.
# A variable, not `model`: what the method adds to the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
backbone_outputs = dict(type='ModuleOutputs', source='backbone')
kd_distiller = dict(
    student_recorders=dict(backbone=backbone_outputs),
    teacher_recorders=dict(backbone=backbone_outputs),
    connectors=dict(),
    distill_losses=dict(
        loss_afdcd=dict(
            type='AfDCDLoss',
            student_channels=512,
            teacher_channels=2048,
            tau=0.07,
            groups=16,
            patch_size=(4, 4),
            pool_size=4,
            mask='center',
            mask_ratio=0.75,
            projector='enhanced',
            fd_weight=2e-6,
            ctr_weight=0.005)),
    loss_forward_mappings=dict(
        loss_afdcd=dict(
            # the last of out_indices (0, 1, 2, 3): layer4 (c4)
            preds_S=dict(from_student=True, recorder='backbone', data_idx=3),
            preds_T=dict(from_student=False, recorder='backbone',
                         data_idx=3))))
# DeepLabV3-MobileNetV2 student, as in
# train_scripts/cityscape/deeplabv3_r101_mbv2_r18_v2_ocmgd.sh: the same
# weights, the train_ocmgd.py defaults for the rest (random mask, plain
# projector conv3x3-ReLU-conv3x3); the backbone's last feature (MMSeg
# MobileNetV2 out_indices (1, 2, 4, 6): stage 6) has 320 channels.
kd_distiller_mbv2 = dict(
    kd_distiller,
    distill_losses=dict(
        loss_afdcd=dict(
            kd_distiller['distill_losses']['loss_afdcd'],
            student_channels=320,
            mask='random',
            projector='plain')))
# The toy pair (../../models/toy_deeplabv3.py), the R18 student's settings:
# backbone features of 128 (narrow R18) and 512 (narrow R50) channels, 12x12
# on 96x96 crops, max-pooled by 3 (not 4) to one 4x4 patch.
kd_distiller_toy = dict(
    kd_distiller,
    distill_losses=dict(
        loss_afdcd=dict(
            kd_distiller['distill_losses']['loss_afdcd'],
            student_channels=128,
            teacher_channels=512,
            pool_size=3)))
