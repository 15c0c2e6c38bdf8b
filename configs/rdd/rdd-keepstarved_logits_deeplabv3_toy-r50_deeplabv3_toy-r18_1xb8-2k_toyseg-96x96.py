# Toy RDD + pixel KD with an option of ours (not in the paper): in each TSE
# batch, a class of which XOR keeps less than 5% of its valid pixels keeps its
# pixels hard for both models in the task loss too (XOR drops them), so that
# a thin or rare class that both models find hard is not starved of task-loss
# signal. Everything else as the plain toy RDD config (the setting of
# configs/_base_/distill/toy_rdd.py).
_base_ = [
    '../_base_/distill/toy_rdd.py',
]
model = dict(distiller=dict(tse=dict(min_class_share=0.05)))
