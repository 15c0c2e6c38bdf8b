# Copyright (c) mmrdd contributors. All rights reserved.
"""The package layout keeps the method apart from the infrastructure.

The method is ``functional`` (pure math), ``structures``, ``models``,
``engine`` (its hooks) and ``visualization`` (pictures of its difficulty
maps); the infrastructure is ``runtime``, ``datasets``, ``cli`` and
``registry``. The
rules, read from each module's imports:

* ``functional`` imports nothing of mmrdd but itself;
* ``runtime`` imports nothing of the method;
* the method imports no data set and no tool library.
"""
import ast
import os.path as osp
from pathlib import Path
from typing import Dict, Set

import mmrdd

PACKAGE = Path(osp.dirname(osp.abspath(mmrdd.__file__)))
METHOD = {'functional', 'structures', 'models', 'engine', 'visualization'}
INFRASTRUCTURE = {'runtime', 'datasets', 'cli', 'registry'}
SHARED = {'arg_checks', 'version'}


def mmrdd_imports(path: Path) -> Set[str]:
    """The top-level ``mmrdd`` subpackages a module imports (``runtime``,
    ``models``, ...), relative imports resolved against its own package."""
    module = path.relative_to(PACKAGE.parent).with_suffix('').parts
    package = module[:-1]  # a package's __init__ too: its own package
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                names = [
                    '.'.join(base + tuple((node.module or '').split('.')))
                ]
                if not node.module:
                    names = [
                        '.'.join(base + (alias.name, )) for alias in node.names
                    ]
            else:
                names = [node.module or '']
        else:
            continue
        for name in names:
            parts = [p for p in name.split('.') if p]
            if parts[:1] == ['mmrdd'] and len(parts) > 1:
                found.add(parts[1])
    return found


def imports_by_part() -> Dict[str, Dict[str, Set[str]]]:
    """``{subpackage: {module path: imported subpackages}}``."""
    table: Dict[str, Dict[str, Set[str]]] = {}
    for path in sorted(PACKAGE.rglob('*.py')):
        rel = path.relative_to(PACKAGE)
        part = rel.parts[0][:-3] if len(rel.parts) == 1 else rel.parts[0]
        table.setdefault(part, {})[str(rel)] = mmrdd_imports(path)
    return table


def offenders(part: str, allowed: Set[str]) -> Dict[str, Set[str]]:
    return {
        module: imported - allowed - {part}
        for module, imported in imports_by_part()[part].items()
        if imported - allowed - {part}
    }


def test_every_subpackage_is_method_infrastructure_or_shared():
    assert set(
        imports_by_part()) == METHOD | INFRASTRUCTURE | SHARED | {'__init__'}


def test_the_scanner_sees_relative_and_absolute_imports():
    """The rules below would pass on a scanner that sees nothing: it must
    find what two known modules import."""
    table = imports_by_part()
    assert 'runtime' in table['models'][
        'models/algorithms/frozen_teacher_distill.py']
    assert table['runtime']['runtime/__init__.py'] == {'runtime'}
    assert table['__init__']['__init__.py'] >= {
        'runtime', 'models', 'engine', 'datasets'
    }


def test_functional_is_pure():
    assert offenders('functional', set()) == {}


def test_runtime_imports_nothing_of_the_method():
    assert offenders('runtime', SHARED) == {}


def test_the_method_imports_no_infrastructure_but_runtime():
    for part in METHOD:
        assert offenders(part, METHOD | SHARED | {'runtime'}) == {}, part
