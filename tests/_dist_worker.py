# Copyright (c) mmrdd contributors. All rights reserved.
"""The end of a test's ``torch.multiprocessing.spawn`` worker."""
import os
import sys


def leave_worker() -> None:
    """Exit a spawned worker whose results are written, without teardown.

    Call it after :func:`mmrdd.runtime.close_launcher` and after the worker
    has saved what the test checks. On the 2-core CI machine, under the
    whole suite's load, a worker that had closed its gloo group still died
    once in interpreter finalisation (``terminate called without an active
    exception``, SIGABRT, from a C++ thread of the distributed stack), which
    fails ``mp.spawn`` after a correct run. ``os._exit(0)`` skips that
    finalisation; a worker that fails before this line still fails.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
