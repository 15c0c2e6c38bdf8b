# Toy RDD + pixel KD with an option of ours (not in the paper): in each TSE
# batch, a class of which XOR keeps less than 5% of its valid pixels keeps its
# pixels hard for both models in the task loss too (XOR drops them), so that
# a thin or rare class that both models find hard is not starved of task-loss
# signal. Everything else as the plain toy RDD config.
_base_ = [
    './rdd_logits_deeplabv3_toy-r50_deeplabv3_toy-r18_1xb8-2k_toyseg-96x96.py'
]  # noqa: E501

model = dict(distiller=dict(tse=dict(min_class_share=0.05)))
