# Copyright (c) mmrdd contributors. All rights reserved.
"""The heads of an MMSeg segmentor, by name, and their logits.

Heads are named ``decode_head`` / ``auxiliary_head``, or ``decode_head.i`` /
``auxiliary_head.i`` for lists (MMSeg's ``CascadeEncoderDecoder``:
``decode_head.{n-1}`` is the prediction). The algorithm, the distiller, the
candidate picker, the mixed-label loss and the pictures all name heads this
way.
"""
from typing import Dict, List, Sequence

from torch import Tensor, nn


def segmentor_heads(model: nn.Module, prefix: str) -> Dict[str, nn.Module]:
    """``model.<prefix>`` by name: one head, or each head of a list.

    Args:
        model (nn.Module): An MMSeg segmentor.
        prefix (str): ``'decode_head'`` or ``'auxiliary_head'``.

    Returns:
        dict[str, nn.Module]: ``{prefix: head}``, ``{f'{prefix}.{i}': head}``
        for a list (a cascade's stages in order), or {} without the head.
    """
    heads = getattr(model, prefix, None)
    if heads is None:
        return {}
    if isinstance(heads, nn.ModuleList):
        return {f'{prefix}.{i}': head for i, head in enumerate(heads)}
    return {prefix: heads}


def all_heads(model: nn.Module) -> Dict[str, nn.Module]:
    """Every decode and auxiliary head of a segmentor, by name."""
    return {
        **segmentor_heads(model, 'decode_head'),
        **segmentor_heads(model, 'auxiliary_head')
    }


def check_heads(heads: Dict[str, nn.Module], who: str) -> None:
    """Refuse heads RDD cannot weight or read: RDD needs MMSeg decode heads
    whose ``forward`` gives dense logits through a ``conv_seg`` classifier
    (PointRend's ``PointHead`` predicts at sampled points and has none)."""
    for name, head in heads.items():
        if not isinstance(getattr(head, 'conv_seg', None), nn.Module):
            raise ValueError(
                f'the {who} {name} ({type(head).__name__}) has no conv_seg '
                'classifier: RDD needs heads that predict dense logits '
                '(PointRend-style point heads are not supported).')


def main_head(model: nn.Module) -> str:
    """Name of the head that makes a segmentor's prediction."""
    return list(segmentor_heads(model, 'decode_head'))[-1]


def loss_prefix(name: str) -> str:
    """The prefix of a head's entries in the segmentor's loss dict.

    MMSeg's ``EncoderDecoder.loss`` prefixes the decode head's losses with
    ``decode``, the auxiliary head's with ``aux`` (``aux_i`` for a list),
    and ``CascadeEncoderDecoder`` stage ``i``'s with ``decode_i``.

    Args:
        name (str): A head name (see :func:`segmentor_heads`).

    Returns:
        str: ``'decode'``, ``'decode_1'``, ``'aux'``, ``'aux_0'``, ...
    """
    prefix, _, index = name.partition('.')
    short = dict(decode_head='decode', auxiliary_head='aux')[prefix]
    return f'{short}_{index}' if index else short


def run_heads(model: nn.Module, feats,
              aux_heads: Sequence[str] = ()) -> Dict[str, Tensor]:
    """The logits of a segmentor's heads on its features, no losses.

    A cascade's decode stages run in order, each on the previous one's
    output, as in MMSeg's ``CascadeEncoderDecoder``.

    Args:
        model (nn.Module): An MMSeg segmentor.
        feats: ``model.extract_feat(inputs)``.
        aux_heads (Sequence[str]): The auxiliary heads to run as well, by
            name (see :func:`segmentor_heads`). Defaults to ().

    Returns:
        dict[str, Tensor]: Logits by head name, (N, C, h, w).
    """
    outputs, prev = {}, None
    for name, head in segmentor_heads(model, 'decode_head').items():
        prev = head(feats) if prev is None else head(feats, prev)
        outputs[name] = prev
    for name, head in segmentor_heads(model, 'auxiliary_head').items():
        if name in aux_heads:
            outputs[name] = head(feats)
    return outputs


def recorded_heads(model: nn.Module, recorders) -> List[str]:
    """The heads of ``model`` that a recorder manager's sources lie in.

    Args:
        model (nn.Module): An MMSeg segmentor.
        recorders (RecorderManager): E.g. a distiller's
            ``teacher_recorders``.

    Returns:
        list[str]: Head names (see :func:`segmentor_heads`).
    """
    sources = [r.source for r in recorders.recorders.values()]
    heads = all_heads(model)
    return [
        name for name in heads
        if any(s == name or s.startswith(name + '.') for s in sources)
    ]
