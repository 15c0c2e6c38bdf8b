# Copyright (c) mmrdd contributors. All rights reserved.
"""Resume exactly or refuse; checkpoints without the frozen teacher."""
import logging
from typing import Dict, List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import find_latest_checkpoint
from mmseg.registry import HOOKS
from torch import Tensor, nn

from .run_fingerprint import (CHANGES, META_KEY, TEACHER_PREFIX,
                              ResumeMismatchError, compared_config,
                              fingerprint_differences, legacy_fingerprint,
                              mismatch_message, state_dict_sha256,
                              trainable_parameters)


@HOOKS.register_module()
class RunFingerprintHook(Hook):
    """Record what a run is in its checkpoints; refuse a resume that differs.

    MMEngine resumes whatever config it is given: with another
    ``model.teacher_ckpt`` it restores the checkpoint's teacher over the new
    one (and the new checkpoints' config names the new file), with another
    ``switch_iter`` the stages may go TSE -> TFE, other losses or weights are
    accepted without a word, and added connectors fail deep in the
    optimizer. This hook (an extension of ours; on for every config that
    ``tools/train.py`` runs):

    * records the run's fingerprint in every checkpoint's ``meta``
      (``meta['mmrdd_run']``): the sha256 of the frozen teacher's weights
      and ``model.teacher_ckpt``, the resolved ``model`` config (switch_iter,
      the distiller's losses and weights, the student, ...; see
      :func:`~mmrdd.runtime.run_fingerprint.compared_config`), the names
      and shapes of the trainable parameters, and the changes earlier
      resumes were allowed;
    * on ``--resume``, compares it with this run's before anything is
      restored, and stops with a :class:`ResumeMismatchError` that names
      each difference and the ways out, unless the top-level config key
      ``resume_allow_changes`` (a list of
      :data:`~mmrdd.runtime.run_fingerprint.CHANGES`: ``'teacher_ckpt'``,
      ``'switch_iter'``, ``'distiller'``, ``'model'``,
      ``'trainable_parameters'``) names it; allowed changes are logged and
      recorded, and with changed trainable parameters the optimizer state
      is not restored (it would not fit);
    * leaves the frozen teacher out of the checkpoints (it is
      ``model.teacher_ckpt``; the recorded sha256 proves a resume reloads
      the same weights), unless the top-level config key
      ``save_self_contained=True``, the teacher has no ``teacher_ckpt`` to
      come from, or it is trained (``teacher_trainable``);
    * makes ``model.teacher_ckpt`` the teacher of every run: a checkpoint's
      teacher weights (older checkpoints hold them) never replace it, on
      ``--resume`` or ``load_from``.

    A checkpoint without a fingerprint (saved before this hook) is compared
    through the config MMEngine saved in its ``meta['cfg']`` and its teacher
    weights. The schedule, data and optimizer settings are not compared
    (extending ``max_iters`` on resume is a normal thing to do).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.allow: tuple = ()
        self.self_contained = False
        self._teacher_sha: Optional[str] = None
        self._teacher_warned = False
        self._changes: List[dict] = []

    @staticmethod
    def _model(runner) -> nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _frozen_teacher(self, runner) -> Optional[nn.Module]:
        """The model's frozen teacher (MMRazor's ``teacher``), or None."""
        teacher = getattr(self._model(runner), 'teacher', None)
        if not isinstance(teacher, nn.Module) or any(
                p.requires_grad for p in teacher.parameters()):
            return None
        return teacher

    @staticmethod
    def _teacher_ckpt(runner) -> Optional[str]:
        model_cfg = runner.cfg.get('model', None) or {}
        return model_cfg.get('teacher_ckpt', None) or None

    def before_run(self, runner) -> None:
        """Check ``resume_allow_changes`` and ``save_self_contained``."""
        allow = runner.cfg.get('resume_allow_changes', None)
        if allow is None:
            allow = []
        if not isinstance(allow, (list, tuple)) or not all(
                isinstance(a, str) for a in allow):
            raise ValueError(
                f'resume_allow_changes must be a list of names, got '
                f'{allow!r}: e.g. --cfg-options '
                '"resume_allow_changes=[\'teacher_ckpt\']".')
        unknown = [a for a in allow if a not in CHANGES]
        if unknown:
            raise ValueError(
                f'resume_allow_changes: unknown {unknown}; the names are '
                f'{list(CHANGES)}.')
        self.allow = tuple(allow)
        self_contained = runner.cfg.get('save_self_contained', False)
        if not isinstance(self_contained, bool):
            raise ValueError('save_self_contained must be True or False, got '
                             f'{self_contained!r}.')
        self.self_contained = self_contained

    def _current(self, runner) -> dict:
        teacher = None
        if self._teacher_sha is not None:
            teacher = dict(
                sha256=self._teacher_sha, ckpt=self._teacher_ckpt(runner))
        return dict(
            config=compared_config(runner.cfg.get('model', None)),
            teacher=teacher,
            trainable=trainable_parameters(self._model(runner)),
            changes=list(self._changes))

    def _use_our_teacher(self, runner, checkpoint: dict) -> None:
        """Make the checkpoint's teacher entries this run's teacher.

        With a ``teacher_ckpt`` the teacher loaded from it stays (the
        checkpoint's ``teacher.*`` entries, if any, are replaced by its
        weights, so the load neither overwrites it nor warns about
        missing keys); without one, a checkpoint that holds the teacher
        is its only source and is kept.
        """
        teacher = self._frozen_teacher(runner)
        state = checkpoint.get('state_dict', checkpoint)
        if teacher is None or not isinstance(state, dict):
            return
        held = any(k.startswith(TEACHER_PREFIX) for k in state)
        if held and not self._teacher_ckpt(runner):
            self._teacher_sha = state_dict_sha256(state, TEACHER_PREFIX)
            return
        ours: Dict[str, Tensor] = {
            TEACHER_PREFIX + k: v
            for k, v in teacher.state_dict().items()
        }
        for key in [k for k in state if k.startswith(TEACHER_PREFIX)]:
            del state[key]
        state.update(ours)
        self._teacher_sha = state_dict_sha256(ours, TEACHER_PREFIX)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Compare the fingerprints on resume; keep this run's teacher."""
        meta = checkpoint.get('meta') or {}
        saved = meta.get(META_KEY)
        legacy = saved is None
        if legacy:
            saved = legacy_fingerprint(checkpoint)
        self._use_our_teacher(runner, checkpoint)
        current = self._current(runner)
        # MMEngine 0.10's Runner keeps --resume and load_from as _resume
        # and _load_from; both loads call this hook
        if not getattr(runner, '_resume', False):  # load_from: a new run
            old_t, new_t = saved.get('teacher'), current['teacher']
            if old_t and new_t and old_t['sha256'] != new_t['sha256']:
                runner.logger.warning(
                    'load_from: the checkpoint was trained with other '
                    f"teacher weights (sha256 {old_t['sha256'][:16]}) than "
                    f"this run's (sha256 {new_t['sha256'][:16]}, "
                    f'{self._teacher_ckpt(runner)}); the teacher is this '
                    "run's.")
            return
        iteration = int(meta.get('iter', 0))
        if legacy:
            runner.logger.info(
                'The checkpoint has no run fingerprint (saved before '
                'mmrdd recorded one): comparing the config in its meta and '
                'its teacher weights' +
                ('' if saved['config'] is not None else
                 ' (its meta has no readable config: not compared)') + '.')
        differences = fingerprint_differences(saved, current, iteration)
        refused = {
            name: text
            for name, text in differences.items() if name not in self.allow
        }
        if refused:
            path = getattr(runner, '_load_from', None) or \
                find_latest_checkpoint(runner.work_dir)
            raise ResumeMismatchError(
                mismatch_message(path, iteration, refused))
        for name, text in differences.items():
            runner.logger.warning(f'--resume with an allowed change ({name}, '
                                  f'resume_allow_changes): {text}')
        self._changes = list(saved.get('changes') or [])
        if differences:
            self._changes.append(dict(iter=iteration, changes=differences))
        if 'trainable_parameters' in differences and \
                'optimizer' in checkpoint:
            self._fit_optimizer_state(runner, checkpoint)

    @staticmethod
    def _fit_optimizer_state(runner, checkpoint: dict) -> None:
        """Keep the saved optimizer's settings, not its per-parameter state.

        With other trainable parameters the saved state (momentum) does not
        fit the optimizer; its param groups' settings (the learning rate
        the schedule continues from, ...) are kept where the groups match.
        """
        saved = checkpoint['optimizer']
        try:
            current = runner.optim_wrapper.state_dict()
        except Exception:  # noqa: BLE001  (not built: nothing to fit)
            current = None
        groups = saved.get('param_groups') if isinstance(saved, dict) else None
        if (not isinstance(current, dict) or groups is None
                or len(groups) != len(current.get('param_groups', ()))):
            checkpoint.pop('optimizer')
            runner.logger.warning(
                'The optimizer state is not restored (the trainable '
                'parameters changed and its param groups do not match): '
                'the optimizer starts afresh, at the base learning rate.')
            return
        fitted = dict(saved, state={})
        fitted['param_groups'] = [
            dict(group, params=list(now['params']))
            for group, now in zip(groups, current['param_groups'])
        ]
        checkpoint['optimizer'] = fitted
        runner.logger.warning(
            'The optimizer\'s per-parameter state (momentum) is not '
            'restored: the trainable parameters changed, so it does not fit; '
            'its learning rate and other settings are.')

    def before_train(self, runner) -> None:
        """Log the teacher's sha256 and what the checkpoints will hold."""
        teacher = self._frozen_teacher(runner)
        if teacher is None:
            return
        if self._teacher_sha is None:
            self._teacher_sha = state_dict_sha256(teacher.state_dict())
        ckpt = self._teacher_ckpt(runner)
        if ckpt and not self.self_contained:
            held = ('without the frozen teacher (reloaded from '
                    'model.teacher_ckpt and checked against this sha256 on '
                    '--resume; save_self_contained=True keeps it)')
        else:
            held = 'with the teacher (' + ('save_self_contained=True'
                                           if ckpt else 'no teacher_ckpt to '
                                           'reload it from') + ')'
        runner.logger.info(
            f'Teacher weights sha256 {self._teacher_sha} ({ckpt}); '
            f'checkpoints are saved {held}.')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the fingerprint; leave the frozen teacher out."""
        fingerprint = self._current(runner)
        teacher = self._frozen_teacher(runner)
        if teacher is not None:
            sha = state_dict_sha256(teacher.state_dict())
            if self._teacher_sha is None:
                self._teacher_sha = sha
            drifted = sha != self._teacher_sha
            if drifted and not self._teacher_warned:
                self._teacher_warned = True
                runner.logger.log(
                    logging.WARNING,
                    'The frozen teacher\'s weights changed during training '
                    f'(sha256 {self._teacher_sha[:16]} at the start, '
                    f'{sha[:16]} now): checkpoints keep the teacher from '
                    'now on.')
            ckpt = self._teacher_ckpt(runner)
            drop = bool(ckpt) and not drifted and not self.self_contained
            if drop:
                state = checkpoint['state_dict']
                for key in [k for k in state if k.startswith(TEACHER_PREFIX)]:
                    del state[key]
            fingerprint['teacher'] = dict(
                sha256=sha, ckpt=ckpt, in_checkpoint=not drop)
        checkpoint.setdefault('meta', {})[META_KEY] = fingerprint
