# Copyright (c) mmrdd contributors. All rights reserved.
"""What every official-code check needs: loading the official code from a
checkout, running it on the CPU, comparing values and gradients.

Nothing of the official code is stored here; it is read from the checkout
given on the command line when the check runs.
"""
import argparse
import ast
import importlib.util
import os.path as osp
import re
import shlex
import subprocess
import sys
from contextlib import contextmanager
from types import ModuleType
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

#: The agreement every value and gradient must reach.
REL_TOL = 1e-5
TOLERANCE = dict(
    rel=REL_TOL,
    value='|official - ours| / |official|',
    gradient='max |g_official - g_ours| / max |g_official| over the tensor')
#: What :func:`on_cpu` changes while official code runs.
CPU_PATCHES = [
    'torch.nn.Module.cuda and torch.Tensor.cuda return the object '
    'unchanged', "device='cuda' given to torch.zeros / torch.ones / "
    'torch.tensor becomes the CPU'
]


def load_module(root: str, relpath: str) -> ModuleType:
    """Import one file of the official checkout as a module of its own.

    Args:
        root (str): The checkout.
        relpath (str): The file, relative to ``root``.

    Returns:
        ModuleType: The module (not added to ``sys.modules``).
    """
    path = osp.join(root, relpath)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: --official-root must be a checkout of the '
            'official repository (git clone https://github.com/OWNER/NAME '
            'DIR).')
    name = 'official_' + re.sub(r'\W', '_', relpath[:-3])
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_file(root: str, relpath: str) -> ast.Module:
    """The syntax tree of one official file."""
    with open(osp.join(root, relpath)) as f:
        return ast.parse(f.read(), filename=relpath)


def find_def(tree: ast.AST, *names: str) -> ast.AST:
    """A (nested) class or function definition by its qualified name.

    Args:
        tree (ast.AST): Where to look.
        *names (str): E.g. ``'Trainer', 'train'``.

    Returns:
        ast.AST: The definition.
    """
    node = tree
    for name in names:
        found = [
            n for n in ast.iter_child_nodes(node)
            if isinstance(n, (ast.ClassDef,
                              ast.FunctionDef)) and n.name == name
        ]
        if not found:
            raise LookupError(f'no definition {".".join(names)} in the '
                              'official file: has its code changed?')
        node = found[0]
    return node


def assigns(stmt: ast.stmt, target: str) -> bool:
    """Whether ``stmt`` assigns the name or attribute ``target``
    (``'losses'``, ``'self.st_conv'``)."""
    if not isinstance(stmt, ast.Assign):
        return False
    return any(ast.unparse(t) == target for t in stmt.targets)


def statements(body: Sequence[ast.stmt], first: str, last: str,
               include_last: bool) -> List[ast.stmt]:
    """The statements of ``body`` from the one that assigns ``first`` up to
    the one that assigns ``last``."""
    starts = [i for i, s in enumerate(body) if assigns(s, first)]
    ends = [i for i, s in enumerate(body) if assigns(s, last)]
    if not starts or not ends or ends[0] < starts[0]:
        raise LookupError(f'no statements from {first} to {last} in the '
                          'official code: has it changed?')
    return list(body[starts[0]:ends[0] + int(include_last)])


def run_statements(stmts: Sequence[ast.stmt], namespace: dict,
                   filename: str) -> dict:
    """Execute official statements in ``namespace`` (on the CPU).

    Args:
        stmts (Sequence[ast.stmt]): Statements of an official file.
        namespace (dict): Their globals and locals; updated.
        filename (str): The official file, for tracebacks.

    Returns:
        dict: ``namespace``.
    """
    module = ast.Module(body=list(stmts), type_ignores=[])
    with on_cpu():
        exec(compile(module, filename, 'exec'), namespace)
    return namespace


@contextmanager
def on_cpu() -> Iterator[None]:
    """Run official code written for CUDA on the CPU (:data:`CPU_PATCHES`);
    the patches are undone on exit."""

    def cpu_device(fn: Callable) -> Callable:

        def wrapped(*args, **kwargs):
            if str(kwargs.get('device', '')).startswith('cuda'):
                kwargs['device'] = 'cpu'
            return fn(*args, **kwargs)

        return wrapped

    saved = dict(
        module_cuda=torch.nn.Module.cuda,
        tensor_cuda=torch.Tensor.cuda,
        zeros=torch.zeros,
        ones=torch.ones,
        tensor=torch.tensor)
    torch.nn.Module.cuda = lambda self, *a, **k: self
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.zeros = cpu_device(saved['zeros'])
    torch.ones = cpu_device(saved['ones'])
    torch.tensor = cpu_device(saved['tensor'])
    try:
        yield
    finally:
        torch.nn.Module.cuda = saved['module_cuda']
        torch.Tensor.cuda = saved['tensor_cuda']
        torch.zeros = saved['zeros']
        torch.ones = saved['ones']
        torch.tensor = saved['tensor']


def script_arguments(root: str, script: str, entry: str) -> List[str]:
    """The command-line arguments a launch script gives ``entry``.

    Line continuations are joined; placeholders in brackets
    (``[your dataset path]``) become ``X``.

    Args:
        root (str): The checkout.
        script (str): The shell script, relative to ``root``.
        entry (str): The Python file it runs (``'train_KT.py'``).

    Returns:
        list[str]: The arguments after ``entry``.
    """
    with open(osp.join(root, script)) as f:
        text = f.read().replace('\\\n', ' ')
    tokens = shlex.split(re.sub(r'\[[^\]]*\]', 'X', text), comments=True)
    ends = [i for i, t in enumerate(tokens) if t.endswith(entry)]
    if not ends:
        raise LookupError(f'{script} does not run {entry}')
    return tokens[ends[0] + 1:]


def official_args(root: str, train_file: str,
                  argv: Sequence[str]) -> Tuple[Optional[dict], str]:
    """Run the official ``parse_args()`` of ``train_file`` on ``argv``.

    Args:
        root (str): The checkout.
        train_file (str): The training script defining ``parse_args``.
        argv (Sequence[str]): Its command-line arguments.

    Returns:
        tuple[dict | None, str]: The parsed arguments (None if argparse
        refused them) and argparse's error message ('' if none).
    """
    func = find_def(parse_file(root, train_file), 'parse_args')
    namespace = dict(argparse=argparse, os=__import__('os'))
    run_statements([func], namespace, train_file)
    saved = sys.argv
    sys.argv = [train_file, *argv]
    stderr = sys.stderr
    try:
        import io
        sys.stderr = io.StringIO()
        try:
            return vars(namespace['parse_args']()), ''
        except SystemExit:
            message = sys.stderr.getvalue().strip().splitlines()[-1]
            return None, message
    finally:
        sys.stderr = stderr
        sys.argv = saved


def official_commit(root: str, given: Optional[str] = None) -> str:
    """The commit of the checkout: ``given``, else ``git rev-parse HEAD``.

    Raises:
        ValueError: If neither names a commit (an extracted archive has no
            ``.git``: pass ``--official-commit``).
    """
    if given:
        return given
    try:
        out = subprocess.run(['git', '-C', root, 'rev-parse', 'HEAD'],
                             capture_output=True,
                             text=True,
                             check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise ValueError(
            f'{root} is not a git checkout: give the commit it was '
            'extracted from with --official-commit SHA.') from None


def grads_of(term: Tensor, inputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Gradients of ``term`` with respect to each input (0 if unused)."""
    names = [k for k, v in inputs.items() if v.requires_grad]
    got = torch.autograd.grad(
        term, [inputs[k] for k in names], retain_graph=True, allow_unused=True)
    return {
        k: torch.zeros_like(inputs[k]) if g is None else g
        for k, g in zip(names, got)
    }


def compare(official: Dict[str, Tensor], ours: Dict[str, Tensor],
            official_inputs: Dict[str, Tensor],
            our_inputs: Dict[str, Tensor]) -> Dict[str, dict]:
    """Values and gradients of matching terms, official against ours.

    Args:
        official (dict[str, Tensor]): Scalar terms of the official code.
        ours (dict[str, Tensor]): Our terms, same keys.
        official_inputs (dict[str, Tensor]): What the official terms are
            differentiated by.
        our_inputs (dict[str, Tensor]): Ours, same keys.

    Returns:
        dict[str, dict]: Per term: both values, their absolute and relative
        difference, and per input the gradients' largest absolute
        difference, largest official magnitude and their ratio.
    """
    result = {}
    for name, o in official.items():
        u = ours[name]
        ov, uv = float(o.detach()), float(u.detach())
        entry = dict(
            official=ov,
            ours=uv,
            abs_diff=abs(ov - uv),
            rel_diff=abs(ov - uv) / abs(ov) if ov else abs(uv),
            grads={})
        g_o = grads_of(o, official_inputs) if o.requires_grad else {}
        g_u = grads_of(u, our_inputs) if u.requires_grad else {}
        for key in sorted(set(g_o) | set(g_u)):
            a = g_o.get(key, torch.zeros_like(our_inputs[key]))
            b = g_u.get(key, torch.zeros_like(a))
            diff = float((a.double() - b.double()).abs().max())
            scale = float(a.double().abs().max())
            entry['grads'][key] = dict(
                max_abs_diff=diff,
                max_abs_official=scale,
                rel_diff=diff / scale if scale else diff)
        result[name] = entry
    return result


def worst(cases: List[dict]) -> Tuple[float, float]:
    """The largest relative value and gradient differences of the cases
    (those marked ``informational`` aside)."""
    values, grads = [0.], [0.]
    for case in cases:
        if case.get('informational'):
            continue
        for term in case['terms'].values():
            values.append(term['rel_diff'])
            grads.extend(g['rel_diff'] for g in term['grads'].values())
    return max(values), max(grads)


def shapes(tensors: Dict[str, Tensor]) -> Dict[str, List[int]]:
    """``{name: shape}``."""
    return {k: list(v.shape) for k, v in tensors.items()}


def seeded(*shape: int, seed: int, dtype=torch.float32) -> Tensor:
    """A reproducible standard normal tensor."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)
