# RDD (TFE for 200 iterations, 10% of the 2k, then TSE-XOR) + pixel KD on
# the toy data set.
_base_ = ['../_base_/distill/toy_rdd.py']
