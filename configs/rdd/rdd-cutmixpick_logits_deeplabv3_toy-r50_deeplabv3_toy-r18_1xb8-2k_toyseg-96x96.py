# Toy RDD + pixel KD with CutMixPick (Wang et al., "What Makes a 'Good' Data
# Augmentation in Knowledge Distillation", NeurIPS 2022, arXiv 2012.02909;
# an mmrdd option, off elsewhere): each step draws pool=2 CutMix copies of
# the batch (every sample mixed, box area ~ Beta(1, 1)), the teacher runs on
# all 2 x 8 candidates without gradient, and the step trains on the 8 with
# the highest mean per-pixel teacher entropy ("CutMixPick (T. ent.)"). The
# teacher's logits of the kept candidates are reused (records cut to them).
_base_ = [
    '../_base_/distill/toy_rdd.py',
    '../_base_/distill/cutmixpick.py',
]
model = dict(picker=_base_.cutmixpick)
