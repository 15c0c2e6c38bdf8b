# CIRKD. Weights and sizes: the defaults of winycg/CIRKD train_cirkd.py
# (before CIRKDv2) and of sunyueue/RDD train_cirkd_two_stage_diff.py, the
# same: pixel KD 1 (--lambda-kd 1., T 1; the experiment's base: pixel_kd of
# ../rdd_logits.py), mini-batch pixel-to-pixel 1 (--lambda-minibatch-pixel),
# memory pixel-to-pixel 0.1 and pixel-to-region 0.1 (--lambda-memory-pixel,
# --lambda-memory-region), 20000 pixel / 2000 region entries per class
# (--pixel-memory-size, --region-memory-size), contrast 4096 / 1024 entries
# (--pixel-contrast-size, --region-contrast-size, passed as `// 19 + 1` per
# class), temperature 0.1 (--contrast-temperature), KD temperature 1
# (--contrast-kd-temperature), 16 pixels per image and class per step
# (StudentSegContrast's fixed pixel_update_freq). On the decode head's last
# feature (input of conv_seg). Deviation (an official bug, not copied): the
# official pixel memory enqueues the pixels at raster positions below the
# class's pixel count, mostly of other classes; ours K random pixels of the
# class (docs/kd_family.md#cirkd). The memories take the teacher's
# feature; the student's goes through a learned projection (the reference's
# conv1x1-BN-ReLU-conv1x1, here two MMRazor ConvModuleConnectors), trained
# with the student. Channels: DeepLabV3-R18-D8 student 128, DeepLabV3-R101-D8
# teacher (MMSeg) 512; 19 Cityscapes classes. Each memory loss calls the
# connector (same output twice in a step; its BN running statistics, unused
# at inference, are updated twice).
# A variable, not `model`: what the method adds to the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
_base_ = ['./decode_feature.py']
kd_memory_inputs = dict(
    preds_S=dict(
        from_student=True, recorder='feat', data_idx=0,
        connector='cirkd_proj'),
    preds_T=dict(from_student=False, recorder='feat', data_idx=0),
    gt_labels=dict(from_student=True, recorder='gt', data_idx=1))
kd_distiller = dict(
    student_recorders=dict(
        feat=_base_.decode_feature, gt=_base_.decode_labels),
    teacher_recorders=dict(feat=_base_.decode_feature),
    connectors=dict(cirkd_proj=[
        dict(
            type='ConvModuleConnector',
            in_channel=128,
            out_channel=512,
            bias=False,
            norm_cfg=dict(type='SyncBN'),
            act_cfg=dict(type='ReLU')),
        dict(
            type='ConvModuleConnector',
            in_channel=512,
            out_channel=512,
            bias=False,
            norm_cfg=None,
            act_cfg=None),
    ]),
    distill_losses=dict(
        loss_cirkd_batch=dict(
            type='CIRKDMiniBatchLoss', tau=0.1, loss_weight=1.0),
        loss_cirkd_pixel=dict(
            type='CIRKDMemoryLoss',
            num_classes=19,
            feat_channels=512,
            memory='pixel',
            memory_size=20000,
            contrast_size=4096,
            tau=0.1,
            kd_tau=1.0,
            loss_weight=0.1),
        loss_cirkd_region=dict(
            type='CIRKDMemoryLoss',
            num_classes=19,
            feat_channels=512,
            memory='region',
            memory_size=2000,
            contrast_size=1024,
            tau=0.1,
            kd_tau=1.0,
            loss_weight=0.1)),
    loss_forward_mappings=dict(
        loss_cirkd_batch=dict(
            preds_S=dict(from_student=True, recorder='feat', data_idx=0),
            preds_T=dict(from_student=False, recorder='feat', data_idx=0)),
        loss_cirkd_pixel=kd_memory_inputs,
        loss_cirkd_region=kd_memory_inputs))
