"""``sources new``: the scaffold of a new HTML family (module, failing test, fixture slot)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clearinghouse import cli
from extractors import scaffold

REPO = Path(__file__).parents[3]


def test_scaffold_writes_module_failing_test_and_fixture_slot(tmp_path: Path) -> None:
    paths = scaffold.scaffold("new-site", "html:new_site", tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "extractors/html/new_site.py", "tests/extractors/html/test_new_site.py",
        "tests/fixtures/html/new_site/README.md"]  # fmt: skip
    ruff = str(Path(sys.executable).with_name("ruff"))
    lint = subprocess.run([ruff, "check", "--config", str(REPO / "pyproject.toml"), *map(str, paths[:2])],
                          capture_output=True, text=True)  # fmt: skip
    assert lint.returncode == 0, lint.stdout


@pytest.mark.slow  # runs pytest in a subprocess
def test_scaffolded_test_fails_until_edited(tmp_path: Path) -> None:
    module, test, _ = scaffold.scaffold("new-site", "html:new_site", tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    runner = (
        "import sys, pytest, extractors.html as html\n"
        f"html.__path__.append({str(module.parent)!r})\n"
        f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '--rootdir', {str(tmp_path)!r}, {str(test)!r}]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stdout
    assert "save a real page of the site" in result.stdout


def test_scaffold_refuses_to_overwrite_and_recipes(tmp_path: Path) -> None:
    scaffold.scaffold("a", "html:new_site", tmp_path)
    with pytest.raises(FileExistsError, match="exists already"):
        scaffold.scaffold("a", "html:new_site", tmp_path)
    with pytest.raises(ValueError, match="a recipe needs no code"):
        scaffold.scaffold("a", "recipe", tmp_path)


def test_cli_sources_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "REPO_ROOT", tmp_path)
    assert cli.main(["sources", "new", "new-site", "--kind", "html:new_site"]) == 0
    assert (tmp_path / "extractors" / "html" / "new_site.py").exists()
    assert cli.main(["sources", "new", "new-site", "--kind", "html:Bad-Name"]) == 1
