# RDD + pixel KD + CWD on the decode-head logits (tau 1, weight 3 as in
# MMRazor's CWD Cityscapes config): the RDD weights still re-weight the task
# loss only; CWD is added unchanged.
_base_ = [
    './rdd_logits_deeplabv3_r101-d8_deeplabv3_r18-d8_4xb4-40k_cityscapes-512x1024.py'  # noqa: E501
]  # noqa: E501

model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_cwd=dict(
                type='RDDWeightedChannelWiseDivergence',
                tau=1.0,
                loss_weight=3.0)),
        loss_forward_mappings=dict(
            loss_cwd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))
