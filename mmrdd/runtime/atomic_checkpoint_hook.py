# Copyright (c) mmrdd contributors. All rights reserved.
"""MMEngine's ``CheckpointHook`` that never leaves a run without a
checkpoint to resume from."""
import glob
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

#: Prefix and suffix of a checkpoint being written (``.iter_8.pth.tmp``).
TMP_PREFIX, TMP_SUFFIX = '.', '.tmp'


def fsync_file(path: str) -> None:
    """Flush ``path``'s data to the disk (``os.fsync``)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_text_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old or the new
    content, never a part (a temporary file, then ``os.replace``).

    Args:
        path (str): The file to (re)write.
        text (str): Its new content.
    """
    tmp = osp.join(
        osp.dirname(path), TMP_PREFIX + osp.basename(path) + TMP_SUFFIX)
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves cannot lose the last good checkpoint.

    MMEngine's hook, with ``max_keep_ckpts=k``, deletes the oldest kept
    checkpoint *before* it writes the new one, writes the new file in place
    and then rewrites ``last_checkpoint`` in place: a run killed during a
    save with ``max_keep_ckpts=1`` leaves no checkpoint at all, one killed
    later a truncated ``iter_N.pth`` or an empty ``last_checkpoint``. Here a
    periodic (or last) checkpoint is written to ``.iter_N.pth.tmp``, flushed
    to the disk and renamed to ``iter_N.pth`` (``os.replace`` is atomic);
    then ``last_checkpoint`` is replaced the same way; only then is the
    outdated checkpoint deleted. A kill at any point leaves
    ``last_checkpoint`` naming a complete checkpoint. Leftover ``.tmp``
    files of a killed run are deleted in ``before_train``.

    Everything else is MMEngine's: the arguments, the saved content, which
    checkpoints are kept (``keep_ckpt_ids`` in the message hub), best
    checkpoints (``save_best``, written as MMEngine writes them). Outside a
    local disk (``backend_args`` for another storage) the hook saves as
    MMEngine does.

    ``tools/train.py`` uses it in place of ``CheckpointHook`` for every
    config; a config run by another launcher can name it:
    ``default_hooks.checkpoint.type='AtomicCheckpointHook'``.

    Args:
        **kwargs: The arguments of MMEngine's ``CheckpointHook``.
    """

    def before_train(self, runner) -> None:
        """Set up as MMEngine does; delete ``.tmp`` files of killed saves."""
        super().before_train(runner)
        if not (is_main_process()
                and isinstance(self.file_backend, LocalBackend)):
            return
        leftovers = glob.glob(
            osp.join(
                glob.escape(self.out_dir),
                TMP_PREFIX + '*.pth' + TMP_SUFFIX)) + glob.glob(
                    osp.join(
                        glob.escape(runner.work_dir),
                        TMP_PREFIX + 'last_checkpoint' + TMP_SUFFIX))
        for tmp in sorted(set(leftovers)):
            os.remove(tmp)
            runner.logger.warning(
                f'Deleted {tmp}: a file that a previous run in this work '
                'dir did not finish writing (it was stopped during a save; '
                'the checkpoint last_checkpoint names is complete).')

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Write ``iter_<step>.pth`` and ``last_checkpoint`` atomically, then
        delete the checkpoint that ``max_keep_ckpts`` drops."""
        if not isinstance(self.file_backend, LocalBackend):
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        tmp_name = TMP_PREFIX + filename + TMP_SUFFIX
        runner.save_checkpoint(
            self.out_dir,
            tmp_name,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        tmp = osp.join(self.out_dir, tmp_name)
        fsync_file(tmp)
        os.replace(tmp, self.last_ckpt)
        replace_text_atomically(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if outdated is not None:
            path = osp.join(self.out_dir, self.filename_tmpl.format(outdated))
            if osp.isfile(path):
                os.remove(path)
