# Copyright (c) mmrdd contributors. All rights reserved.
"""Download a checkpoint URL with a timeout of its own."""
import os
import os.path as osp
import shutil
import tempfile
import urllib.request
from typing import Optional
from urllib.parse import urlparse

import torch
from mmengine.dist import barrier, get_dist_info


def cached_checkpoint_path(url: str) -> str:
    """Where ``torch.hub`` keeps the download of ``url``:
    ``<torch.hub.get_dir()>/checkpoints/<file name of the URL>`` (MMEngine's
    ``load_from_http`` uses the same place, so its downloads are reused)."""
    name = osp.basename(urlparse(url).path)
    return osp.join(torch.hub.get_dir(), 'checkpoints', name)


def download_checkpoint(url: str, timeout: Optional[float] = 60.0) -> str:
    """The local copy of a checkpoint URL, downloaded once.

    ``torch.hub`` downloads without a timeout, so a server that accepts the
    connection but never answers would block the start of training
    forever. Here the connection and every read wait at most ``timeout``
    seconds (``urllib.request.urlopen(timeout=...)``, for this download
    only: no process-wide socket setting changes). The file goes to
    :func:`cached_checkpoint_path` through a temporary file in the same
    folder, so an interrupted download leaves no partial checkpoint. In a
    distributed run rank 0 downloads and the other ranks wait for it, as in
    MMEngine's ``load_from_http``.

    Args:
        url (str): The checkpoint's URL.
        timeout (float, optional): Seconds to wait for the server to
            connect and for each read. Defaults to 60 (None: no timeout).

    Returns:
        str: The path of the local file.
    """
    path = cached_checkpoint_path(url)
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(path):
        folder = osp.dirname(path)
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as answer:
                    shutil.copyfileobj(answer, tmp, 1 << 20)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, path)
    if world_size > 1:
        barrier()
    return path
