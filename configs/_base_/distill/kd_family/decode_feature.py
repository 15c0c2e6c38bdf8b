# What the feature methods of this folder read, as recorders and one
# connector (variables, inherited by each method file):
# - decode_feature: the decode head's last feature, the input of conv_seg
#   (the RDD reference's `x_feat_after_aspp`), of student or teacher;
# - decode_labels: the labels, the second input of the student's
#   decode_head.loss_decode;
# - decode_feature_proj: a learned 1x1 convolution without bias from the
#   student's 128 channels (DeepLabV3-R18-D8) to the teacher's 512
#   (DeepLabV3-R101-D8), MMRazor's ConvModuleConnector, trained with the
#   student (CIRKD's FitNet and CWD).
decode_feature = dict(type='ModuleInputs', source='decode_head.conv_seg')
decode_labels = dict(type='ModuleInputs', source='decode_head.loss_decode')
decode_feature_proj = dict(
    type='ConvModuleConnector',
    in_channel=128,
    out_channel=512,
    bias=False,
    norm_cfg=None,
    act_cfg=None)
