"""The image (``Dockerfile``) holds every package ``pyproject.toml`` installs: a package added to the layers
and forgotten in the image would only fail inside a deployment."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO


def test_the_image_copies_every_installed_package() -> None:
    find = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in find["include"]}
    copied = set(re.findall(r"^COPY \S+ (\w+) \./\1$", (REPO / "Dockerfile").read_text(), re.M))
    assert packages <= copied, f"not copied into the image: {sorted(packages - copied)}"
