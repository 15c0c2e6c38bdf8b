# CWD on the decode-head logits, tau 1, weight 3 as in MMRazor's CWD
# Cityscapes config, added to RDD + pixel KD: WeightedChannelWiseDivergence
# between the logits that ./rdd_logits.py records (pixel_kd's `logits`).
# A variable, not `model`: what it adds to the distiller of the experiment
# config that inherits this file next to an RDD config,
#     model = dict(distiller=_base_.kd_distiller)
kd_distiller = dict(
    distill_losses=dict(
        loss_cwd=dict(
            type='WeightedChannelWiseDivergence', tau=1.0, loss_weight=3.0)),
    loss_forward_mappings=dict(
        loss_cwd=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits'))))
