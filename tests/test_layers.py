"""The layers of ``docs/architecture.md``, enforced: every import of every module, also inside functions.

foundation ← extractors, transforms (never each other) ← warehouse ← clearinghouse (the entry layer) ← dags.
Production code never imports ``bench`` or ``tests``; no DAG file imports another DAG file.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

PROJECT = ("foundation", "extractors", "transforms", "warehouse", "clearinghouse", "dags", "bench", "tests")
ALLOWED = {
    "foundation": {"foundation"},
    "extractors": {"foundation", "extractors"},
    "transforms": {"foundation", "transforms"},
    "warehouse": {"foundation", "extractors", "transforms", "warehouse"},
    "clearinghouse": {"foundation", "extractors", "transforms", "warehouse", "clearinghouse"},
    "dags": {"clearinghouse"},
}
"""Per layer, the project packages its modules may import."""
RULES = {
    "foundation": "foundation/ imports nothing else of the project",
    "extractors": "extractors/ imports only foundation/ (never transforms/, warehouse/ or the entry layer)",
    "transforms": "transforms/ imports only foundation/ (never extractors/, warehouse/ or the entry layer)",
    "warehouse": "warehouse/ imports foundation/, extractors/ and transforms/, never the entry layer",
    "clearinghouse": "the entry layer imports anything below it, never dags/, bench/ or tests/",
    "dags": "a DAG file imports only the entry layer (clearinghouse/), never another DAG file",
}


@dataclass(frozen=True)
class Import:
    module: str
    """The importing module, dotted."""
    line: int
    name: str
    """The imported module, dotted and absolute."""


def module_name(root: Path, path: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def imports(root: Path, path: Path) -> list[Import]:
    """Every import statement of the file, wherever it is (module level, functions, classes)."""
    module = module_name(root, path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".") if node.level else []  # relative: against the importing module's package
            base = base[: len(base) - node.level + 1] if node.level else base
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found += [Import(module, node.lineno, ".".join([*base, name])) for name in names]
    return found


def violations(root: Path, layer: str) -> list[str]:
    """``module:line imports name: rule`` for every import of ``layer`` the layering forbids."""
    dag_files = {p.stem for p in (root / "dags").glob("*.py")}
    problems = []
    for path in sorted((root / layer).rglob("*.py")):
        for found in imports(root, path):
            top = found.name.split(".")[0]
            forbidden = (top in PROJECT and top not in ALLOWED[layer]) or (layer == "dags" and top in dag_files)
            if forbidden:
                problems.append(f"{found.module}:{found.line} imports {found.name}: {RULES[layer]}")
    return problems


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_is_below_it(layer: str) -> None:
    assert (REPO / layer).is_dir()
    problems = violations(REPO, layer)
    assert not problems, "imports against the layering (docs/architecture.md):\n" + "\n".join(problems)


def test_every_package_is_in_a_layer() -> None:
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} | {"dags"}
    assert packages - {"bench", "tests"} == set(ALLOWED)


def test_the_check_names_the_module_the_import_and_the_rule(tmp_path: Path) -> None:
    """It sees imports inside functions, relative imports and imports between DAG files."""
    files = {
        "transforms/__init__.py": "",
        "transforms/normalize.py": "def f():\n    from extractors.registry import Source\n",
        "transforms/geo.py": "from . import normalize\nfrom .. import warehouse\n",
        "dags/nightly.py": "import clearinghouse.pipeline\nfrom build import helper\n",
        "dags/build.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path, "transforms") == [
        f"transforms.geo:2 imports warehouse: {RULES['transforms']}",
        f"transforms.normalize:2 imports extractors.registry: {RULES['transforms']}",
    ]
    assert violations(tmp_path, "dags") == [f"dags.nightly:2 imports build: {RULES['dags']}"]
