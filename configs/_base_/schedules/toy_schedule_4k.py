# Copyright (c) mmrdd contributors. All rights reserved.
# The toy teacher's schedule: as toy_schedule.py, twice as long (4k
# iterations), so that the teacher stays clearly ahead of the students'
# plateau, as DeepLabV3-R101 (78.07) is ahead of the R18 students in the
# paper.
_base_ = ['./toy_schedule.py']
max_iters = 4000
# toy_schedule.py's poly decay, over the 4k iterations
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
