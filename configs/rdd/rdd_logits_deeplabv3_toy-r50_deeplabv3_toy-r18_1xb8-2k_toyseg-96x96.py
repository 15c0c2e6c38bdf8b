# RDD (TFE for 100 iterations, then TSE-XOR) + pixel KD on the toy data set.
_base_ = ['../_base_/distill/toy_rdd.py']
