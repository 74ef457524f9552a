"""The README cannot drift from the code.

* Its formula table is executed: each formula must equal its library call.
* Every table that restates code sits between ``<!-- generated: NAME -->`` and
  ``<!-- end: NAME -->`` and must equal what :data:`SECTIONS` renders from the code now: the
  report's columns and properties, the commands and their options, the semantics variants,
  the named divergences, the seeded faults, the bad-input tables, the profiles and the
  modules. Adding a property, a divergence, a fault or a command without the README fails
  here; ``python tests/test_readme.py --write`` rewrites those sections.
* The quick start is what ``.ci/run`` runs, verbatim, and the first screen stays one screen.

(The doctest blocks in the README run too, through ``--doctest-glob=README.md``.)
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: python tests/test_readme.py --write
    sys.path.insert(0, str(ROOT))

from verify import shapes  # noqa: E402
from verify.config import (  # noqa: E402
    BidirectionalConfig,
    DenseConfig,
    GRUConfig,
    LSTMConfig,
    SimpleRNNConfig,
)

README = ROOT / "README.md"
NAMESPACE = {
    **{name: getattr(shapes, name) for name in shapes.__all__},
    "LSTMConfig": LSTMConfig, "BidirectionalConfig": BidirectionalConfig,
    "DenseConfig": DenseConfig, "GRUConfig": GRUConfig, "SimpleRNNConfig": SimpleRNNConfig,
}
#: Lines of the first screen: what it answers, install, the main job, the tests, which
#: command answers which question.
FIRST_SCREEN = 60


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in rows]
    return "\n".join(lines)


def report_columns() -> str:
    from verify.suite.report import format_table

    return "```\n" + format_table([]) + "\n```"


def properties() -> str:
    from verify.suite.properties import PROPERTIES

    return _table(("property", "runs (strata)", "what it checks"), [
        (f"`{name}`", ", ".join(prop.strata) or "one", prop.summary)
        for name, prop in PROPERTIES.items()])


def commands() -> str:
    from verify.cli import build_parser

    parser = build_parser()
    (subparsers,) = [action for action in parser._actions
                     if isinstance(action, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    everywhere = set.intersection(*({action.option_strings[-1] for action in command._actions
                                      if action.option_strings}
                                     for command in subparsers.choices.values()))
    rows = []
    for name, command in subparsers.choices.items():
        arguments = []
        for action in command._actions:
            if isinstance(action, argparse._HelpAction) or (
                    action.option_strings and action.option_strings[-1] in everywhere):
                continue
            if action.option_strings:
                flag = action.option_strings[-1]
                arguments.append(f"`{flag}`" if action.nargs == 0
                                 else f"`{flag} {action.metavar or action.dest.upper()}`")
            else:
                arguments.append(f"`{action.metavar}`")
        rows.append((f"`{name}`", " ".join(arguments), str(helps[name])))
    shared = ", ".join(f"`{flag}`" for flag in sorted(everywhere - {"--help"}))
    return (f"Every command also takes {shared}.\n\n"
            + _table(("command", "arguments and options", "what it does"), rows))


def semantics_variants() -> str:
    from verify.semantics import VARIANTS

    fields = ("hard_sigmoid", "masked_output", "mask_merge", "sequence_mask", "pool_padding")
    return _table(("variant", *fields), [
        (f"`{name}`", *(str(getattr(variant, field)) for field in fields))
        for name, variant in VARIANTS.items()])


def _condition(condition: dict[str, object]) -> str:
    words = {"keras": lambda v: "Keras " + "/".join(map(str, v)),  # type: ignore[arg-type]
             "backend": lambda v: "on " + "/".join(v),  # type: ignore[arg-type]
             "legacy": lambda v: "tf-keras" if v else "not tf-keras",
             "tensorflow_below": lambda v: f"TensorFlow < {v}",
             "keras_below": lambda v: f"Keras < {v}",
             "keras_from": lambda v: f"Keras >= {v}",
             "gpu": lambda v: "a GPU" if v else "no GPU"}
    return ", ".join(words[key](value) for key, value in condition.items()) or "every environment"


def divergences() -> str:
    from verify.suite import divergences as named

    return _table(("divergence", "applies to", "what"), [
        (f"`{entry.name}`", _condition(dict(entry.applies))
         + (" (unmeasured: from the sources)" if entry.unmeasured else ""), entry.what)
        for entry in named.load()])


def faults() -> str:
    from tests.power.catalogue import CATALOGUE

    counts: dict[str, int] = {}
    for fault in CATALOGUE:
        counts[fault.where] = counts.get(fault.where, 0) + 1
    rows = [(where, str(count)) for where, count in counts.items()]
    return _table(("where the fault is seeded", "faults"), [*rows, ("**all**",
                                                                  f"**{len(CATALOGUE)}**")])


def bad_input() -> str:
    from tests import test_errors, test_files

    tables = [("tests/test_errors.py `CASES` (configurations, formulas, gates, strategies)",
               len(test_errors.CASES)),
              ("tests/test_errors.py `ADAPTER_CASES` (the Keras adapter)",
               len(test_errors.ADAPTER_CASES)),
              ("tests/test_errors.py `REFERENCE_CASES` (the reference, Bidirectional, Stateful)",
               len(test_errors.REFERENCE_CASES)),
              ("tests/test_errors.py `CONVERT_CASES` (conversions, export)",
               len(test_errors.CONVERT_CASES)),
              ("tests/test_files.py `HOSTILE` files, each through explain/export/predict/migrate",
               4 * len(test_files.HOSTILE))]
    return _table(("table", "cases"), [(name, str(count)) for name, count in tables])


def profiles() -> str:
    from verify.suite.profiles import PROFILES

    def settings(options: dict[str, object]) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in options.items()
                         if key != "max_examples") or "random, example database on"

    return _table(("profile", "examples per property", "settings"), [
        (f"`{name}`", str(options["max_examples"]), settings(options))
        for name, options in PROFILES.items()])


def modules() -> str:
    """Every module and package of the project with the first sentence of its docstring."""
    rows = []
    for path in sorted([*(ROOT / "verify").rglob("*.py"), *(ROOT / "strategies").rglob("*.py")]):
        if path.name == "__main__.py":
            continue
        doc = " ".join((ast.get_docstring(ast.parse(path.read_text())) or "").split())
        doc = re.sub(r":(?:mod|func|class|data|meth|attr):`~?([^`]+)`", r"`\1`", doc)
        first = re.split(r"(?<=\.)\s", doc.replace("``", "`"), maxsplit=1)[0].rstrip(".")
        name = str(path.relative_to(ROOT).parent if path.name == "__init__.py"
                   else path.relative_to(ROOT))
        rows.append((f"`{name}{'/' if path.name == '__init__.py' else ''}`", first))
    return _table(("module", "what it is"), rows)


SECTIONS: dict[str, Callable[[], str]] = {
    "report-columns": report_columns, "properties": properties, "commands": commands,
    "semantics": semantics_variants, "divergences": divergences, "faults": faults,
    "bad-input": bad_input, "profiles": profiles, "modules": modules,
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated: {name} -->\n)(.*?)\n?(<!-- end: {name} -->)", re.S)


def write(text: str) -> str:
    """``text`` with every generated section rendered anew."""
    for name, render in SECTIONS.items():
        text, count = _pattern(name).subn(lambda m, r=render: f"{m[1]}{r()}\n{m[3]}", text)
        if count != 1:
            raise LookupError(f"README.md must hold the section {name!r} exactly once")
    return text


@pytest.mark.parametrize("name", list(SECTIONS))
def test_generated_section_is_current(name: str) -> None:
    found = _pattern(name).search(README.read_text())
    assert found is not None, f"README.md lacks <!-- generated: {name} --> ... <!-- end -->"
    assert found[2] == SECTIONS[name](), (
        f"README.md's {name!r} section is stale: run `python tests/test_readme.py --write` "
        "and review the diff")


def formula_rows() -> list[tuple[str, str, str]]:
    section = README.read_text().split("## The formulas", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and all(cell.startswith("`") for cell in cells[1:]):
            rows.append((cells[0], cells[1].strip("`"), cells[2].strip("`")))
    return rows


ROWS = formula_rows()


def test_the_table_is_found() -> None:
    assert len(ROWS) >= 24, "the README's formula table changed shape; update this test"


@pytest.mark.parametrize(("quantity", "formula", "call"), ROWS, ids=[row[0] for row in ROWS])
@given(d=st.integers(1, 300), u=st.integers(1, 300), k=st.integers(1, 50),
       T=st.integers(1, 100))
def test_formula_equals_library(quantity: str, formula: str, call: str, d: int, u: int, k: int,
                                T: int) -> None:
    variables = {"d": d, "u": u, "k": k, "T": T}
    assert eval(formula, {}, variables) == eval(call, NAMESPACE, variables), quantity


def test_quick_start_is_what_ci_runs() -> None:
    commands = re.findall(r"```bash\n(.+?)\n```", README.read_text())
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[:2] == ['pip install -e ".[tf,test]" && python -m verify report',
                            "pytest -n auto"]
    for command in commands[:2]:
        assert command in ci, f"{command!r} is not run verbatim by .ci/run"


def test_the_first_screen_is_one_screen() -> None:
    sections = README.read_text().split("\n## ", 4)
    assert [section.split("\n", 1)[0] for section in sections[1:4]] == [
        "Install", "Quick start", "Which command answers which question"]
    screen = "\n## ".join(sections[:4])  # what it answers, install, quick start, questions
    assert len(screen.splitlines()) < FIRST_SCREEN, len(screen.splitlines())


def test_every_tox_environment_is_in_the_readme() -> None:
    tox = (ROOT / "tox.ini").read_text()
    listed = tox.split("env_list =", 1)[1].split("\n\n", 1)[0].split("#", 1)[0]
    names = set(re.findall(r"[a-z0-9]+", listed)) | {"latest", "nightly", "tfnightly"}
    section = README.read_text().split("## Keras versions", 1)[1].split("\n## ", 1)[0]
    shown = set(re.findall(r"`([a-z0-9]+)`", section))
    ranges = {"tf212", "tf213", "tf214", "tf215", "tf216", "tf217", "tf218", "tf219", "tf220",
              "tf221"}
    missing = names - shown - (ranges if {"tf212", "tf215", "tf216", "tf221"} <= shown else set())
    assert not missing, f"tox environments missing from the README's table: {sorted(missing)}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_readme.py --write")
    README.write_text(write(README.read_text()))
    print(f"rewrote the generated sections of {README}")
