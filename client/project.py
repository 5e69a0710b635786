"""`subnet.json`: a project's canisters, shaped like `dfx.json`.

::

    {
      "version": 1,
      "canisters": {
        "backend": {"type": "motoko", "main": "src/backend/main.mo"},
        "legacy":  {"type": "custom", "wasm": "build/legacy.wasm", "candid": "legacy.did"}
      },
      "packages": {"mylib": "vendor/mylib/src"},
      "defaults": {"build": {"packtool": "mops sources"}}
    }

Paths are relative to the file. ``packages`` names Motoko packages (``import X "mo:mylib/X"``);
``defaults.build.packtool`` is dfx's command whose output is ``--package NAME PATH`` pairs.
A project with only a ``dfx.json`` is read the same way (the keys are dfx's); when a
directory has both, ``subnet.json`` is used. Build outputs go to
``.subnet/<network>/canisters/<name>/`` as dfx puts them under ``.dfx/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from vocab.errors import SubnetError

FILE_NAME = "subnet.json"
DFX_FILE_NAME = "dfx.json"
CANISTER_TYPES = ("motoko", "custom")


class ProjectError(SubnetError):
    """subnet.json is missing, malformed, or names something that is not there."""


@dataclass(frozen=True)
class CanisterConfig:
    name: str
    type: str
    main: Path | None = None
    wasm: Path | None = None
    candid: Path | None = None
    dependencies: tuple[str, ...] = ()
    """Canisters this one calls by name (``import X "canister:NAME"``), as in dfx.json:
    they are created and built first, and the compiler learns their ids and Candid."""


@dataclass(frozen=True)
class Project:
    root: Path
    canisters: dict[str, CanisterConfig]
    file: Path = Path(FILE_NAME)
    """The project file read (``subnet.json`` or ``dfx.json``)."""
    packages: dict[str, Path] = field(default_factory=dict)
    """Motoko packages by name: the directory ``mo:NAME/...`` imports read from."""
    packtool: str | None = None
    """dfx's ``defaults.build.packtool``: a command printing ``--package NAME PATH`` pairs."""
    ignored: Path | None = None
    """A ``dfx.json`` beside the ``subnet.json`` read, which is not used."""

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The project whose subnet.json (or, failing that, dfx.json) is in ``start`` or the
        nearest parent directory."""
        here = (start or Path.cwd()).resolve()
        directory = _project_directory(here)
        if directory is None:
            raise ProjectError(
                f"no {FILE_NAME} or {DFX_FILE_NAME} in {here} or its parents; `subnet new NAME` creates a project"
            )
        candidate = directory / FILE_NAME
        dfx = directory / DFX_FILE_NAME
        if not candidate.is_file():
            return cls.load(dfx)
        project = cls.load(candidate)
        return replace(project, ignored=dfx) if dfx.is_file() else project

    def notice(self) -> str | None:
        """What a command says about which project file it uses, when there is a choice."""
        if self.ignored is None:
            return None
        return f"using {self.file} (not {self.ignored}: when both exist, {FILE_NAME} is used)"

    @classmethod
    def load(cls, path: Path) -> Project:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ProjectError(f"{path}: not readable JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise ProjectError(f"{path}: the top level must be an object")
        canisters = data.get("canisters")
        if not isinstance(canisters, dict) or not canisters:
            raise ProjectError(f"{path}: 'canisters' must be an object with at least one canister")
        root = path.parent
        parsed: dict[str, CanisterConfig] = {}
        for name in sorted(canisters):
            entry = canisters[name]
            where = f"{path}: canisters.{name}"
            if not isinstance(entry, dict):
                raise ProjectError(f"{where} must be an object")
            kind = entry.get("type")
            if kind not in CANISTER_TYPES:
                raise ProjectError(f"{where}.type must be one of {', '.join(CANISTER_TYPES)}, not {kind!r}")
            dependencies = _dependencies(entry, where)
            if kind == "motoko":
                main = _path(entry, "main", root, where)
                parsed[name] = CanisterConfig(name, kind, main=main, dependencies=dependencies)
            else:
                parsed[name] = CanisterConfig(
                    name,
                    kind,
                    wasm=_path(entry, "wasm", root, where),
                    candid=_path(entry, "candid", root, where),
                    dependencies=dependencies,
                )
        _check_dependencies(parsed, path)
        return cls(root, parsed, path, _packages(data, root, path), _packtool(data, path))

    def build_order(self, names: list[str]) -> list[str]:
        """``names`` and the canisters they depend on, each after its dependencies (ties in
        name order), as dfx builds and deploys them."""
        order: list[str] = []

        def visit(name: str) -> None:
            if name in order:
                return
            for dependency in sorted(self.canister(name).dependencies):
                visit(dependency)
            order.append(name)

        for name in names:
            visit(name)
        return order

    def candid_file(self, name: str) -> Path:
        """Where canister ``name``'s Candid interface is: its own file (custom) or the
        one ``build`` writes (Motoko)."""
        config = self.canister(name)
        if config.type == "custom":
            assert config.candid is not None
            return config.candid
        return self.output_dir(name) / f"{name}.did"

    def canister(self, name: str) -> CanisterConfig:
        if name not in self.canisters:
            known = ", ".join(sorted(self.canisters))
            raise ProjectError(f"no canister {name!r} in {self.file} (it has: {known})")
        return self.canisters[name]

    def output_dir(self, name: str, network: str = "local") -> Path:
        return self.root / ".subnet" / network / "canisters" / name


def _packages(data: dict, root: Path, path: Path) -> dict[str, Path]:
    packages = data.get("packages", {})
    if not isinstance(packages, dict):
        raise ProjectError(f"{path}: 'packages' must be an object (package name -> directory)")
    parsed = {}
    for name in sorted(packages):
        if not name or "/" in name:
            raise ProjectError(f"{path}: packages: {name!r} is not a package name")
        parsed[name] = _path(packages, name, root, f"{path}: packages")
    return parsed


def _dependencies(entry: dict, where: str) -> tuple[str, ...]:
    value = entry.get("dependencies", [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ProjectError(f"{where}.dependencies must be a list of canister names")
    return tuple(value)


def _check_dependencies(canisters: dict[str, CanisterConfig], path: Path) -> None:
    """Every dependency names a canister of the project, and none depends on itself."""
    for name in sorted(canisters):
        for dependency in canisters[name].dependencies:
            if dependency not in canisters:
                raise ProjectError(
                    f"{path}: canisters.{name}.dependencies: no canister {dependency!r} in the project "
                    f"(it has: {', '.join(sorted(canisters))})"
                )

    def walk(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            raise ProjectError(f"{path}: the canisters' dependencies form a cycle: {cycle}")
        for dependency in canisters[name].dependencies:
            walk(dependency, [*trail, name])

    for name in sorted(canisters):
        walk(name, [])


def _packtool(data: dict, path: Path) -> str | None:
    defaults = data.get("defaults", {})
    build = defaults.get("build", {}) if isinstance(defaults, dict) else None
    if not isinstance(build, dict):
        raise ProjectError(f"{path}: 'defaults.build' must be an object")
    packtool = build.get("packtool")
    if packtool is None or packtool == "":
        return None
    if not isinstance(packtool, str):
        raise ProjectError(f"{path}: defaults.build.packtool must be a command (a string)")
    return packtool


def _path(entry: dict, key: str, root: Path, where: str) -> Path:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ProjectError(f"{where}.{key} must be a path")
    return root / value


GREET_MOTOKO = """persistent actor {
  public query func greet(name : Text) : async Text {
    return "Hello, " # name # "!";
  };
};
"""


def scaffold(parent: Path, name: str) -> Path:
    """Create a new project directory with one Motoko backend canister that has `greet`."""
    if not name or "/" in name or name.startswith("."):
        raise ProjectError(f"invalid project name {name!r}")
    root = parent / name
    if root.exists():
        raise ProjectError(f"{root} already exists")
    backend = f"{name}_backend"
    source = root / "src" / backend / "main.mo"
    source.parent.mkdir(parents=True)
    source.write_text(GREET_MOTOKO)
    config = {"version": 1, "canisters": {backend: {"type": "motoko", "main": f"src/{backend}/main.mo"}}}
    (root / FILE_NAME).write_text(json.dumps(config, indent=2) + "\n")
    (root / ".gitignore").write_text(".subnet/\n")
    return root


def _project_directory(here: Path) -> Path | None:
    """The nearest of ``here`` and its parents holding a subnet.json or a dfx.json."""
    for directory in (here, *here.parents):
        if (directory / FILE_NAME).is_file() or (directory / DFX_FILE_NAME).is_file():
            return directory
    return None


def project_root(start: Path | None = None) -> Path:
    """The root of the project ``start`` (default: the current directory) is in, or
    ``start`` itself outside any project.

    ``canister_ids.json`` and the local subnet (``.subnet/local``) live there, so that every
    command works from any subdirectory of the project, as dfx's do."""
    here = start or Path.cwd()
    return _project_directory(here.resolve()) or here
