# Copyright (c) mmrdd contributors. All rights reserved.
"""Checks of our losses against the official code of each method.

``tools/analysis_tools/check_official.py METHOD --official-root PATH`` runs
one of them: the method's module here (one per method, named in the tool's
table) imports the official loss from a checkout at run time, runs it and
ours on the same seeded inputs and returns the comparison that the tool
writes to ``docs/results/official_<method>.json``. No official code is kept
in this repository: :mod:`.common` loads modules from the checkout, and can
run a function's or a training loop's statements from an official file,
with CUDA calls sent to the CPU.
"""
