# Copyright (c) mmrdd contributors. All rights reserved.
"""The checkpoint download: torch.hub's cache, its own timeout, no partial
file, and the process-wide socket timeout untouched."""
import os
import os.path as osp
import socket

import pytest
import torch

from mmrdd.runtime.download import cached_checkpoint_path, download_checkpoint

URL = 'https://127.0.0.1:9/some/dir/teacher_20200605-7fd3f799.pth'


def test_a_cached_download_is_reused_without_the_network(
        tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    path = cached_checkpoint_path(URL)
    assert path == osp.join(torch.hub.get_dir(), 'checkpoints',
                            'teacher_20200605-7fd3f799.pth')
    os.makedirs(osp.dirname(path))
    torch.save(dict(state_dict={}), path)
    assert download_checkpoint(URL, timeout=1) == path  # port 9: no server


def test_a_failed_download_leaves_no_file_and_no_global_timeout(
        tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    previous = socket.getdefaulttimeout()
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        server.listen(1)  # accepts, never answers
        url = f'https://127.0.0.1:{server.getsockname()[1]}/t.pth'
        with pytest.raises(OSError, match='timed out'):
            download_checkpoint(url, timeout=0.5)
    assert socket.getdefaulttimeout() == previous
    folder = osp.dirname(cached_checkpoint_path(url))
    assert os.listdir(folder) == []
