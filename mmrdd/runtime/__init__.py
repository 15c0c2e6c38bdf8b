# Copyright (c) mmrdd contributors. All rights reserved.
"""What runs the method on a user's machine; none of it is RDD.

* :mod:`.compat` -- patches for the pinned OpenMMLab stack on torch >= 2,
  applied by ``import mmrdd`` before anything imports MMRazor;
* :mod:`.config_scope` -- ``mmrdd::`` configs (the ``.mim/configs`` that
  the wheel ships), and tools that take ``package::path`` configs;
* :mod:`.launch` -- ``--launcher pytorch`` and ``--amp`` on CPU-only
  machines, and a clean end of a distributed run;
* :mod:`.cpu_amp_optim_wrapper` -- bfloat16 CPU autocast for ``--amp``;
* :mod:`.data_options` -- one ``data_root`` for every split, and
  ``persistent_workers`` only with worker processes (the tools' options);
* :mod:`.frozen_param_log_filter` -- one log line for the frozen teacher
  instead of one per parameter;
* :mod:`.iter_seed_hook` -- per-iteration seeds, so a resumed run continues
  bit-exactly;
* :mod:`.checkpoint`, :mod:`.resume` -- strict checkpoint loading, the KD to
  student conversion, and checks of a checkpoint before resuming from it;
* :mod:`.download` -- a checkpoint URL's download, with its own timeout;
* :mod:`.run_fingerprint`, :mod:`.run_fingerprint_hook`,
  :mod:`.atomic_checkpoint_hook`, :mod:`.work_dir_lock`,
  :mod:`.train_guards` -- resume exactly or refuse, checkpoints without the
  frozen teacher, no checkpoint lost on a kill, one run per work dir;
* :mod:`.weights`, :mod:`.load_weights_hook` -- safe reading of a
  checkpoint, its kind (distillation, student, segmentor), and strict
  loading of the part that belongs in a model (``load_from``, test);
* :mod:`.model_config` -- MMRazor's ``cfg_path`` models resolved into
  model dicts, so every key can be overridden.

Nothing here imports the method (``mmrdd.functional``, ``mmrdd.models``,
``mmrdd.structures``, ``mmrdd.engine``, ``mmrdd.visualization``);
``tests/test_layout.py`` checks it.
"""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint import kd_to_student_checkpoint, load_checkpoint_strict
from .config_scope import config_file, register_config_scope
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .data_options import (check_wrapper_data_roots, fix_persistent_workers,
                           set_data_root, split_datasets)
from .frozen_param_log_filter import (FrozenParamLogFilter, frozen_params,
                                      frozen_params_summarised)
from .iter_seed_hook import IterSeedHook
from .launch import (add_launch_arguments, check_config_runs_here,
                     check_model_runs_here, close_launcher, load_tool_config,
                     run_runner, setup_amp, setup_launcher, take_load_from)
from .load_weights_hook import LoadWeightsHook
from .model_config import resolve_cfg_path, resolve_model_cfgs
from .resume import (check_resume_checkpoint, checkpoint_problem,
                     previous_good_checkpoint, training_state_problem)
from .run_fingerprint import ResumeMismatchError, state_dict_sha256
from .run_fingerprint_hook import RunFingerprintHook
from .train_guards import add_train_guards, work_dir_held
from .weights import (checkpoint_kind, load_weights, read_checkpoint,
                      state_dict_of)
from .work_dir_lock import WorkDirInUseError, WorkDirLock

__all__ = [
    'CPUAmpOptimWrapper', 'IterSeedHook', 'add_launch_arguments',
    'load_tool_config', 'run_runner', 'setup_launcher', 'close_launcher',
    'check_model_runs_here', 'setup_amp', 'kd_to_student_checkpoint',
    'load_checkpoint_strict', 'check_resume_checkpoint', 'checkpoint_problem',
    'previous_good_checkpoint', 'training_state_problem', 'config_file',
    'register_config_scope', 'set_data_root', 'split_datasets',
    'check_wrapper_data_roots', 'fix_persistent_workers',
    'FrozenParamLogFilter', 'frozen_params', 'frozen_params_summarised',
    'AtomicCheckpointHook', 'RunFingerprintHook', 'ResumeMismatchError',
    'state_dict_sha256', 'add_train_guards', 'work_dir_held', 'WorkDirLock',
    'WorkDirInUseError', 'LoadWeightsHook', 'check_config_runs_here',
    'take_load_from', 'resolve_cfg_path', 'resolve_model_cfgs',
    'checkpoint_kind', 'load_weights', 'read_checkpoint', 'state_dict_of'
]
