"""The Motoko packages a project's build defines.

As in dfx (``src/dfx/src/lib/package_arguments.rs``): without a packtool the default
libraries ``core`` and ``base`` are defined; with dfx's ``defaults.build.packtool``, a
command (``mops sources``, ``vessel sources``) run in the project's directory whose standard
output is ``--package NAME PATH`` pairs, its packages are, and the defaults are not (mops
lists the ``core`` or ``base`` a project pinned). dfx hands that output to moc as
arguments; here only those pairs are accepted, and anything else in it is an error that
quotes it. The project file's ``packages`` map (name -> directory, this project's own
addition) is added to either, and a name in it wins over the same name from the packtool.
A packtool that cannot run or fails is reported in dfx's words.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

from client.motoko import DEFAULT_LIBRARIES, read_package
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
    shown = _command_line(argv, root)
    try:
        completed = subprocess.run(
            argv, cwd=root, capture_output=True, text=True, timeout=_PACKTOOL_TIMEOUT, check=False
        )
    except OSError as exc:
        reason = f"{exc.strerror} (os error {exc.errno})" if exc.errno is not None else str(exc)
        raise ProjectError(
            f"Failed to invoke the package tool {shown}\n the error was: {reason} "
            f"(defaults.build.packtool {command!r})"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise ProjectError(
            f"The package tool {shown} did not finish in {_PACKTOOL_TIMEOUT} s "
            f"(defaults.build.packtool {command!r})"
        ) from exc
    if completed.returncode != 0:
        status = (
            f"exit status: {completed.returncode}"
            if completed.returncode >= 0
            else f"signal: {-completed.returncode}"
        )
        raise ProjectError(
            f"The command '{shown}' failed with exit status '{status}'.\n"
            f"Stdout:\n{completed.stdout[-1000:]}\nStderr:\n{completed.stderr[-1000:]}"
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


def _command_line(argv: list[str], root: Path) -> str:
    """The command as dfx shows it (Rust's ``Debug`` of a ``Command`` with a directory)."""
    return f"cd {json.dumps(str(root))} && " + " ".join(json.dumps(word) for word in argv)


def default_libraries(project: Project) -> tuple[str, ...]:
    """The default libraries a build of ``project`` has: ``core`` and ``base``, none under
    a packtool (dfx gives moc either the defaults or the packtool's packages)."""
    return () if project.packtool else DEFAULT_LIBRARIES


def package_directories(project: Project) -> dict[str, Path]:
    """Package name -> directory: the packtool's, then the project file's ``packages`` map."""
    directories = run_packtool(project.packtool, project.root) if project.packtool else {}
    directories.update(project.packages)
    return directories


def project_packages(project: Project) -> dict[str, dict[str, str]]:
    """Package name -> its ``.mo`` files (path inside the package -> text), for the compiler."""
    return {name: read_package(name, path) for name, path in sorted(package_directories(project).items())}
