# Copyright (c) mmrdd contributors. All rights reserved.
"""The difficulty estimators check their arguments once, where the config
enters (the pure functions of ``mmrdd.functional`` do not check them
again)."""
import pytest

import mmrdd  # noqa: F401
from mmrdd.models import RDDTFEDifficulty, RDDTSEDifficulty


@pytest.mark.parametrize('thresh', [0, 1, 1.5, -0.1, True, '0.7', None])
def test_invalid_thresh(thresh):
    with pytest.raises(ValueError, match='thresh'):
        RDDTSEDifficulty(thresh=thresh, min_kept=1)


@pytest.mark.parametrize('min_kept', [0, -3, 1.5, True, None])
def test_invalid_min_kept(min_kept):
    with pytest.raises(ValueError, match='min_kept must be an int >= 1'):
        RDDTSEDifficulty(thresh=0.7, min_kept=min_kept)


def test_invalid_mode():
    with pytest.raises(ValueError, match="'xor', 'or', 'and', 'student'"):
        RDDTSEDifficulty(mode='nand')


def test_invalid_tfe_arguments():
    with pytest.raises(ValueError, match="'aux_main', 'main_aux'"):
        RDDTFEDifficulty(direction='sym')
    with pytest.raises(ValueError, match="'aux', 'flip'"):
        RDDTFEDifficulty(second_view='hflip')


@pytest.mark.parametrize('weights', [[1.0, float('nan')], [[1.0]], [-1.0]])
def test_invalid_class_weight(weights):
    with pytest.raises(ValueError, match='class_weight'):
        RDDTSEDifficulty(class_weight=weights)


@pytest.mark.parametrize('share', [0, -0.1, 1.5, '0.05', True])
def test_invalid_min_class_share(share):
    with pytest.raises(ValueError, match=r'min_class_share must be None'):
        RDDTSEDifficulty(min_class_share=share)


@pytest.mark.parametrize('mode', ['or', 'and', 'student'])
def test_min_class_share_is_for_xor_only(mode):
    with pytest.raises(ValueError, match="only mode 'xor' drops"):
        RDDTSEDifficulty(mode=mode, min_class_share=0.05)
