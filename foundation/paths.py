"""Paths built from parameters and ids stay inside their folder.

A replay date comes from a command line or a DAG run's parameters, a source id from the registry, a release
id from ``publish --rollback``; each becomes part of a path under ``CLEARINGHOUSE_HOME``. Checked here, once,
so ``--replay ../../etc`` is a clear error instead of a walk through the file system.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from datetime import date
from pathlib import Path

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class UnsafePath(ValueError):
    """A parameter that would name a path outside its folder, or is not in the form it must have."""


def replay_day(value: str) -> str:
    """``value`` if it is a calendar date written YYYY-MM-DD (the folders of the raw archive)."""
    text = str(value).strip()
    if DAY.match(text):
        try:
            date.fromisoformat(text)
            return text
        except ValueError:
            pass
    raise UnsafePath(f"the replay date must be a day written YYYY-MM-DD (e.g. 2026-11-22); got {value!r}")


def component(name: str, what: str = "name") -> str:
    """``name`` if it can be one path component: not empty, not ``.`` or ``..``, no separators or NUL."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise UnsafePath(f"{name!r} is not a valid {what}: it must name one file or folder, not a path")
    return name


def inside(root: Path, *parts: str) -> Path:
    """``root`` joined with ``parts``, refused unless it stays inside ``root`` (symlinks resolved).

    Called for every file the raw archive touches, so the common case is kept cheap: an absolute ``root`` is
    resolved once per process (``_real``), and a path that goes down from it without ``..`` costs one
    ``lstat`` per component below it (none past the first that does not exist); a symlink among them, a
    ``..`` or an absolute part is judged by resolving the whole path, as always.
    """
    path = root.joinpath(*parts)
    if not _plainly_inside(root, path) and not path.resolve().is_relative_to(_real(root)):
        raise UnsafePath(f"{'/'.join(parts)!r} leads outside {root}")
    return path


def _plainly_inside(root: Path, path: Path) -> bool:
    """``path`` is ``root`` and components below it, none ``..`` nor a symlink (so it cannot lead out)."""
    head = len(root.parts)
    if path.parts[:head] != root.parts or ".." in path.parts[head:]:
        return False
    current = os.fspath(_real(root))
    for name in path.parts[head:]:
        current = os.path.join(current, name)  # strings: pathlib's joins cost more than the lstat
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return False
        except (FileNotFoundError, NotADirectoryError):
            return True  # nothing below a missing component exists, symlinks included
    return True


def _real(root: Path) -> Path:
    """``root`` with its symlinks resolved: once per process for an absolute root (roots are the folders of
    ``CLEARINGHOUSE_HOME``, fixed for a process), every time for a relative one (it depends on the cwd)."""
    return _real_absolute(root) if root.is_absolute() else root.resolve()


@functools.lru_cache(maxsize=64)
def _real_absolute(root: Path) -> Path:
    return root.resolve()
