# RDD (TFE 4k iterations, then TSE-XOR) + pixel KD:
# DeepLabV3-R101-D8 teacher -> deeplabv3_r18-d8 student, CamVid 360x480.
_base_ = [
    '../_base_/distill/camvid_rdd.py',
    '../_base_/distill/students/deeplabv3_r18-d8.py'
]
model = dict(architecture=_base_.student)
