# RDD + pixel KD on the toy data set (ToySeg: 1 process x 8 crops of 96x96,
# 2k iterations, CPU runtime): the setting every toy RDD config shares; an
# experiment config adds its teacher and student (./toy_rdd.py: the toy
# DeepLabV3 pair). RDD's settings are the paper's defaults scaled by fixed
# rules, not tuned on the toy data: thresh 0.7, XOR, the switch by the
# reference's rule (TFE for the first tenth of the schedule,
# mmrdd.models.distillers.reference_switch_iter), min_kept the reference's
# share of a batch.
_base_ = [
    '../datasets/toyseg.py',
    '../schedules/toy_schedule.py',
    '../toy_runtime.py',
    './rdd_logits.py',
]
model = dict(
    distiller=dict(
        # reference_switch_iter(2000): 10%, as 4000 of 40000
        switch_iter=200,
        # the reference's share of hard pixels: 100000 of 4x512x1024 pixels
        # (4.77%); here 100000 * (8*96*96) / (4*512*1024) = 3516, rounded
        # as in configs/rdd/README.md to 3500
        tse=dict(min_kept=3500)))
