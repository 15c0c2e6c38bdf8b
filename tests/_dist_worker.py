# Copyright (c) mmrdd contributors. All rights reserved.
"""Helpers of the tests that start several processes: a free port for the
process group, and the end of a ``torch.multiprocessing.spawn`` worker."""
import os
import socket
import sys


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Returns:
        int: The port, for a rendezvous (``init_method``, ``PORT``).
    """
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


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
