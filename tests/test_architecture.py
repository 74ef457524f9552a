"""The house: the library never imports the verification machinery, only one module imports
Keras, nothing imports in a circle, and the names that moved still import (with a warning)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import verify

ROOT = Path(__file__).resolve().parent.parent
#: What sits above the library: the machinery and the command line on top of both.
ABOVE = ("verify/suite/", "verify/cli.py", "verify/__main__.py")
LIBRARY = sorted(path for path in (ROOT / "verify").rglob("*.py")
                 if not str(path.relative_to(ROOT)).startswith(ABOVE))


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (absolute names):
    ``from package import submodule`` counts as the submodule, ``from module import name`` as
    the module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if _is_module(full) else node.module)
    return found


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


@pytest.mark.parametrize("path", LIBRARY, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_library_never_imports_the_machinery(path: Path) -> None:
    machinery = {name for name in imported(path)
                 if name.split(".")[0] in ("strategies", "hypothesis", "pytest")
                 or name.startswith("verify.suite")}
    assert not machinery, f"{path.relative_to(ROOT)} imports {sorted(machinery)}"


def test_one_module_imports_keras() -> None:
    importers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "verify").rglob("*.py")
                       if {name.split(".")[0] for name in imported(path)}
                       & {"keras", "tensorflow", "tf_keras"})
    assert importers == ["verify/keras_backend.py"]


def test_no_import_circles() -> None:
    """Module-level import graph of verify/ (every import, also inside functions) is acyclic."""
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"):
               path for path in (ROOT / "verify").rglob("*.py")}
    graph = {name: {target for target in imported(path) if target in modules and target != name}
             for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycle = [*trail[trail.index(target):], target]
                raise AssertionError(f"import circle: {' -> '.join(cycle)}")
            if target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_importing_the_library_loads_neither_keras_nor_hypothesis() -> None:
    code = ("import sys, verify, verify.files, verify.migrate, verify.proof, verify.explain; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'hypothesis', 'verify.suite') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("old", "new"), sorted(verify.MOVED.items()))
def test_a_moved_module_still_imports_with_a_warning(old: str, new: str) -> None:
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    sys.modules.pop(old, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.import_module(new)  # the new home itself warns about nothing
