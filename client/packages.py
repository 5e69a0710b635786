"""The Motoko packages a project's build defines, besides the default ``core`` and ``base``.

Two sources, as in dfx: the project file's ``packages`` map (name -> directory) and dfx's
``defaults.build.packtool``, a command (``mops sources``, ``vessel sources``) run in the
project's directory whose standard output is ``--package NAME PATH`` pairs. dfx hands that
output to moc as arguments; here only those pairs are accepted, and anything else in it is
an error that quotes it. A name in the map wins over the same name from the packtool.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from client.motoko import read_package
from client.project import Project, ProjectError

_PACKTOOL_TIMEOUT = 120


def run_packtool(command: str, root: Path) -> dict[str, Path]:
    """Run ``command`` in ``root``; the packages its output names (paths relative to ``root``)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ProjectError(f"defaults.build.packtool {command!r} is not a command: {exc}") from exc
    if not argv:
        raise ProjectError("defaults.build.packtool is empty")
    try:
        completed = subprocess.run(
            argv, cwd=root, capture_output=True, text=True, timeout=_PACKTOOL_TIMEOUT, check=False
        )
    except FileNotFoundError as exc:
        raise ProjectError(f"defaults.build.packtool {command!r}: {argv[0]} not found") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProjectError(f"defaults.build.packtool {command!r} failed to run: {exc}") from exc
    if completed.returncode != 0:
        raise ProjectError(
            f"defaults.build.packtool {command!r} failed (exit {completed.returncode}): "
            f"{completed.stderr.strip()[-1000:]}"
        )
    try:
        words = shlex.split(completed.stdout)
    except ValueError as exc:
        raise ProjectError(f"defaults.build.packtool {command!r} printed unparsable output: {exc}") from exc
    packages: dict[str, Path] = {}
    index = 0
    while index < len(words):
        if words[index] != "--package" or index + 2 >= len(words):
            raise ProjectError(
                f"defaults.build.packtool {command!r} printed {' '.join(words[index : index + 3])!r}: "
                "expected '--package NAME PATH' pairs"
            )
        name, path = words[index + 1], words[index + 2]
        packages[name] = root / path
        index += 3
    return packages


def package_directories(project: Project) -> dict[str, Path]:
    """Package name -> directory: the packtool's, then the project file's ``packages`` map."""
    directories = run_packtool(project.packtool, project.root) if project.packtool else {}
    directories.update(project.packages)
    return directories


def project_packages(project: Project) -> dict[str, dict[str, str]]:
    """Package name -> its ``.mo`` files (path inside the package -> text), for the compiler."""
    return {name: read_package(name, path) for name, path in sorted(package_directories(project).items())}
