"""Teacher-Full Evaluated difficulty (TFE-RDD), stage 1 of RDD."""
from typing import Sequence, Tuple

from mmrazor.registry import TASK_UTILS
from mmseg.models.utils import resize
from torch import Tensor

from mmrdd.functional import TFE_DIRECTIONS, resize_weight, tfe_difficulty


@TASK_UTILS.register_module()
class RDDTFEDifficulty:
    """Per-pixel weights from the disagreement of the teacher's two heads.

    Stage 1 of Relative Difficulty Distillation (Liang et al., "Relative
    Difficulty Distillation for Semantic Segmentation", SCIS 2024,
    arXiv:2407.03719). The teacher alone judges difficulty: where its decode
    head ``T`` and auxiliary head ``Ta`` disagree the pixel is hard and the
    student's task loss there is down-weighted,

    .. math::
        v(p) = \\sum_c P_{Ta}(c, p) (\\log P_{Ta}(c, p) - \\log P_T(c, p)),
        \\qquad w(p) = \\exp(-v(p)) \\in (0, 1].

    Args:
        direction (str): ``'aux_main'`` for KL(P(Ta) || P(T)) as in the
            reference code, ``'main_aux'`` for KL(P(T) || P(Ta)) as in the
            paper's Eq. 6. Defaults to ``'aux_main'``.
        resize_logits (bool): If False (reference behaviour), ``v`` is
            computed at the logit resolution and ``w`` is resized bilinearly
            to the label size; if True the logits are resized to the label
            size first. Defaults to False.
    """

    def __init__(self,
                 direction: str = 'aux_main',
                 resize_logits: bool = False) -> None:
        if direction not in TFE_DIRECTIONS:
            raise ValueError(f'RDDTFEDifficulty: direction must be one of '
                             f'{TFE_DIRECTIONS}, got {direction!r}.')
        self.direction = direction
        self.resize_logits = resize_logits

    def __call__(self, logits: Tensor, aux_logits: Tensor, size: Sequence[int],
                 align_corners: bool) -> Tuple[Tensor, Tensor]:
        """Compute the TFE weight map.

        Args:
            logits (Tensor): Teacher decode-head logits, (N, C, h, w).
            aux_logits (Tensor): Teacher auxiliary-head logits, (N, C, h', w').
            size (Sequence[int]): The label size ``(H, W)``.
            align_corners (bool): ``align_corners`` of the teacher's head.

        Returns:
            tuple[Tensor, Tensor]: ``w`` at the label size, (N, H, W), and at
            the decode-logit size, (N, h, w).
        """
        size = tuple(size)
        if self.resize_logits:
            weight = tfe_difficulty(
                resize(logits, size, mode='bilinear',
                       align_corners=align_corners),
                resize(aux_logits, size, mode='bilinear',
                       align_corners=align_corners), self.direction,
                align_corners)
            return weight, resize_weight(weight, logits.shape[2:],
                                         align_corners)
        small = tfe_difficulty(logits, aux_logits, self.direction,
                               align_corners)
        return resize_weight(small, size, align_corners), small
