# Toy CutMixPick by the teacher-student divergence (the first version of
# Wang et al., arXiv 2012.02909, "based on the idea of active learning"):
# as rdd-cutmixpick_..., but the candidates are ranked by the mean per-pixel
# KL(P(T) || P(S)), with one more no-grad student pass (eval mode).
_base_ = [
    '../_base_/distill/toy_rdd.py',
    '../_base_/distill/cutmixpick.py',
]
model = dict(picker=dict(_base_.cutmixpick, criterion='kl'))
