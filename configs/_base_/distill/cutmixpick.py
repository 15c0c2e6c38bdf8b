# CutMixPick by the teacher entropy (Wang et al., NeurIPS 2022, arXiv
# 2012.02909; an mmrdd option): pool=2 CutMix copies of the batch (every
# sample mixed, box area ~ Beta(1, 1)); the teacher runs on all candidates
# without gradient and the step trains on the batch-size many with the
# highest mean per-pixel teacher entropy, reusing their teacher logits.
# A variable, not `model`: the algorithm's picker, for the experiment config
# that inherits this file next to an RDD config,
#     model = dict(picker=_base_.cutmixpick)
cutmixpick = dict(
    type='CandidatePicker',
    pool=2,
    criterion='entropy',
    augments=dict(type='SegCutMix', prob=1.0, alpha=1.0))
