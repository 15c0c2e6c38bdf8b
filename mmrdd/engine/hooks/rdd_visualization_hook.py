# Copyright (c) mmrdd contributors. All rights reserved.
"""Draw what RDD sees during training, for MMEngine's visualizer."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from .train_metainfo import class_names, train_metainfo


def default_palette(num_classes: int) -> np.ndarray:
    """A fixed palette for data sets without one, (C, 3) uint8."""
    return np.random.RandomState(0).randint(
        0, 256, (num_classes, 3), dtype=np.uint8)


@HOOKS.register_module()
class RDDDifficultyVisHook(Hook):
    """Every ``interval`` iterations, draw one training image as RDD sees it.

    After a training iteration this hook takes the first image of the batch,
    runs the distillation model on it (both models in eval mode, no
    gradient; the training mode is restored) through
    :func:`~mmrdd.visualization.difficulty_maps` and draws with
    :func:`~mmrdd.visualization.difficulty_panel`: the image, the ground
    truth, the teacher's and the student's predictions and the difficulty
    of the current stage, i.e. in TFE the difficulty ``1 - w`` with
    :math:`w = \\exp(-KL)` of the two teacher views, in TSE the pixels hard
    for the student only (red), for the teacher only (blue), for both
    (grey), the selected ones (yellow), and for each class of the image
    (named by the training data set's ``metainfo['classes']``) the share of
    its pixels selected and the share hard for both and dropped (with
    ``class_shares``). The panel goes to
    ``runner.visualizer.add_image(name, panel, step)`` with ``step`` the
    number of iterations done (the step of the logged scalars), so it lands
    in ``<work_dir>/<timestamp>/vis_data/vis_image/<name>_<step>.png`` with
    ``LocalVisBackend`` and in the event file with
    ``TensorboardVisBackend``. Only the main process draws.

    The picture is of the un-augmented batch image (no batch augmentation
    such as CutMix) and of the models after the step, in eval mode; the TSE
    selection uses ``min_kept`` divided by the batch size (one image's
    share of the batch's OHEM budget). Images are read as MMSeg loads them,
    BGR, and drawn RGB.

    Args:
        interval (int): Draw after every ``interval``-th iteration.
            Defaults to 100.
        name (str): Image name given to the visualizer. Defaults to
            ``'rdd_difficulty'``.
        scale (int): Upscaling of the tiles. Defaults to 2.
        palette (Sequence[Sequence[int]], optional): RGB colour per class.
            Defaults to None (the training data set's ``palette``, else a
            fixed random one).
        class_shares (bool): Add the per-class tile in stage TSE.
            Defaults to True.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 100,
                 name: str = 'rdd_difficulty',
                 scale: int = 2,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 class_shares: bool = True) -> None:
        for what, value in (('interval', interval), ('scale', scale)):
            if isinstance(value,
                          bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'RDDDifficultyVisHook: {what} must be an '
                                 f'int >= 1, got {value!r}.')
        if not isinstance(name, str) or not name:
            raise ValueError('RDDDifficultyVisHook: name must be a '
                             f'non-empty str, got {name!r}.')
        if not isinstance(class_shares, bool):
            raise ValueError('RDDDifficultyVisHook: class_shares must be a '
                             f'bool, got {class_shares!r}.')
        self.interval, self.name, self.scale = interval, name, scale
        self.class_shares = class_shares
        self.palette = None if palette is None else np.asarray(
            palette, np.uint8)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Draw the first image of ``data_batch`` every ``interval``."""
        if data_batch is None or not self.every_n_train_iters(
                runner, self.interval) or not is_main_process():
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(getattr(model, 'distiller', None), 'samplers'):
            raise TypeError(
                'RDDDifficultyVisHook needs a distillation model with an '
                "RDDDistiller (model.distiller=dict(type='RDDDistiller', "
                f'...)); got {type(model).__name__}.')
        panel = self.draw(model, data_batch, runner)
        runner.visualizer.add_image(self.name, panel, step=runner.iter + 1)

    def draw(self, model, data_batch: dict, runner=None) -> np.ndarray:
        """The panel of the first image of ``data_batch``, RGB uint8.

        Args:
            model (FrozenTeacherDistill): The distillation model.
            data_batch (dict): A training batch as the dataloader gives it
                (``inputs``: list of (3, H, W) uint8 BGR, ``data_samples``).
            runner (Runner, optional): For the training data set's palette.
                Defaults to None.

        Returns:
            np.ndarray: (H', W', 3) uint8.
        """
        from mmrdd.visualization import difficulty_maps, difficulty_panel
        distiller = model.distiller
        batch_size = len(data_batch['inputs'])
        one = dict(
            inputs=[data_batch['inputs'][0]],
            data_samples=[data_batch['data_samples'][0]])
        was_training = model.training
        try:
            with torch.no_grad():
                data = model.data_preprocessor(one, False)
            label = data['data_samples'][0].gt_sem_seg.data.long()
            min_kept = max(1, distiller.tse.min_kept // batch_size)
            maps = difficulty_maps(model, data['inputs'], label, min_kept)
        finally:
            model.train(was_training)
        gt = label[0].cpu().numpy()
        raw = data_batch['inputs'][0]
        image = raw.detach().cpu().numpy()[::-1].transpose(1, 2, 0)
        image = np.ascontiguousarray(
            np.clip(image[:gt.shape[0], :gt.shape[1]], 0, 255), np.uint8)
        head = distiller.head_specs[distiller.student_main]
        return difficulty_panel(
            maps,
            image,
            gt,
            self._palette(model, runner),
            head.ignore_index,
            stage=distiller.stage,
            scale=self.scale,
            classes=class_names(runner, head.num_classes)
            if self.class_shares else None)

    def _palette(self, model, runner) -> np.ndarray:
        if self.palette is not None:
            return self.palette
        palette = train_metainfo(runner).get('palette')
        if palette is None:
            distiller = model.distiller
            head = distiller.head_specs[distiller.student_main]
            num_classes = getattr(head, 'num_classes', None) or 256
            return default_palette(num_classes)
        return np.asarray(palette, np.uint8)
