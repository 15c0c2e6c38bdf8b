# Toy CutMixPick by the teacher-student divergence (the first version of
# Wang et al., arXiv 2012.02909, "based on the idea of active learning"):
# as rdd-cutmixpick_..., but the candidates are ranked by the mean per-pixel
# KL(P(T) || P(S)), with one more no-grad student pass (eval mode).
_base_ = [
    './rdd-cutmixpick_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'  # noqa: E501
]  # noqa: E501

model = dict(picker=dict(criterion='kl'))
