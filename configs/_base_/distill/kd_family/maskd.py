# MasKD (Huang et al., ICLR 2023) as in hunto/MasKD segmentation/
# train_maskd.py @b5af34f: MasKDLoss on the decode-head logits with weight
# 1 (--lambda-kd, default 1.0) and on the auxiliary-head logits with 0.4
# (the script's fixed `0.4 * lambda_kd`), both under the masks of the same
# 8 receptive tokens over the 19 classes (`MasKDLoss(channels=19,
# num_tokens=8)`), no pixel KD (the `_delete_` keys drop the base's
# loss_kl). The tokens are learned first, on the frozen teacher (stage 1:
# tools/train.py configs/rdd/maskd-tokens_deeplabv3_r101-d8_4xb4-10k_
# cityscapes-512x1024.py writes maskd_tokens below); they are frozen here.
# Students without an auxiliary term (MobileNetV2 in the official scripts)
# use maskd_losses_decode / maskd_mappings_decode.
# Variables, not `model`: what the method changes in the distiller of the
# experiment config that inherits this file next to an RDD or a KD config,
#     model = dict(distiller=_base_.kd_distiller)
maskd_tokens = 'work_dirs/maskd-tokens_deeplabv3_r101-d8_4xb4-10k_cityscapes-512x1024/iter_10000.pth'  # noqa: E501
maskd_loss = dict(
    type='MasKDLoss', tokens=maskd_tokens, num_tokens=8, channels=19)
aux_logits = dict(type='ModuleOutputs', source='auxiliary_head.conv_seg')
maskd_losses_decode = dict(loss_maskd=dict(maskd_loss, loss_weight=1.0))
maskd_losses = dict(
    maskd_losses_decode, loss_maskd_aux=dict(maskd_loss, loss_weight=0.4))
maskd_mappings_decode = dict(
    loss_maskd=dict(
        preds_S=dict(from_student=True, recorder='logits'),
        preds_T=dict(from_student=False, recorder='logits')))
maskd_mappings = dict(
    maskd_mappings_decode,
    loss_maskd_aux=dict(
        preds_S=dict(from_student=True, recorder='aux_logits'),
        preds_T=dict(from_student=False, recorder='aux_logits')))
kd_distiller = dict(
    student_recorders=dict(aux_logits=aux_logits),
    teacher_recorders=dict(aux_logits=aux_logits),
    connectors=dict(),
    distill_losses=dict(_delete_=True, **maskd_losses),
    loss_forward_mappings=dict(_delete_=True, **maskd_mappings))
