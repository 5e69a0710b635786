"""`subnet.json`: a project's canisters, shaped like `dfx.json`.

::

    {
      "version": 1,
      "canisters": {
        "backend": {"type": "motoko", "main": "src/backend/main.mo"},
        "legacy":  {"type": "custom", "wasm": "build/legacy.wasm", "candid": "legacy.did"}
      }
    }

Paths are relative to the file. Build outputs go to ``.subnet/<network>/canisters/<name>/``
as dfx puts them under ``.dfx/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from vocab.errors import SubnetError

FILE_NAME = "subnet.json"
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


@dataclass(frozen=True)
class Project:
    root: Path
    canisters: dict[str, CanisterConfig]

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The project whose subnet.json is in ``start`` or the nearest parent directory."""
        here = (start or Path.cwd()).resolve()
        for directory in (here, *here.parents):
            candidate = directory / FILE_NAME
            if candidate.is_file():
                return cls.load(candidate)
        raise ProjectError(f"no {FILE_NAME} in {here} or its parents; `subnet new NAME` creates a project")

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
            if kind == "motoko":
                main = _path(entry, "main", root, where)
                parsed[name] = CanisterConfig(name, kind, main=main)
            else:
                parsed[name] = CanisterConfig(
                    name,
                    kind,
                    wasm=_path(entry, "wasm", root, where),
                    candid=_path(entry, "candid", root, where),
                )
        return cls(root, parsed)

    def canister(self, name: str) -> CanisterConfig:
        if name not in self.canisters:
            known = ", ".join(sorted(self.canisters))
            raise ProjectError(f"no canister {name!r} in {self.root / FILE_NAME} (it has: {known})")
        return self.canisters[name]

    def output_dir(self, name: str, network: str = "local") -> Path:
        return self.root / ".subnet" / network / "canisters" / name


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
