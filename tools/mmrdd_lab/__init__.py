# Copyright (c) mmrdd contributors. All rights reserved.
"""The repository's lab: experiment drivers, benchmarks and their statistics.

Not part of the installed package (``pip install mmrdd`` ships the plugin
only): the command lines in ``tools/`` import these modules after putting
``tools/`` on ``sys.path``, and so does the test suite.

* :mod:`mmrdd_lab.train_runs` -- training runs of ``tools/train.py`` as
  quiet subprocesses, and what their logs say;
* :mod:`mmrdd_lab.seeds`, :mod:`mmrdd_lab.demo`,
  :mod:`mmrdd_lab.demo_summary` -- the toy experiments and their verdict;
* :mod:`mmrdd_lab.toy_teacher` -- the committed toy teacher (or one
  trained here);
* :mod:`mmrdd_lab.fingerprint` -- content keys of the toy runs (when a
  finished run may be reused);
* :mod:`mmrdd_lab.evaluate` -- scoring a checkpoint on a split;
* :mod:`mmrdd_lab.benchmark`, :mod:`mmrdd_lab.benchmark_masks` -- step
  cost and mask selection benchmarks;
* :mod:`mmrdd_lab.gpu_check` -- the prepared GPU check's Python side
  (``tools/misc/gpu_check.sh``);
* :mod:`mmrdd_lab.checkpoint_size` -- how much of a checkpoint is the
  frozen teacher;
* :mod:`mmrdd_lab.kd_augment_stats` -- statistics of KD augmentation;
* :mod:`mmrdd_lab.official` -- our losses against each method's official
  code (``tools/analysis_tools/check_official.py``).
"""
