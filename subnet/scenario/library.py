"""The shipped scenarios: TOML files in ``subnet/scenarios/``, package data, so that a
fresh clone and an installed package find the same files."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from subnet.scenario.spec import ScenarioError, parse_scenario

__all__ = ["Shipped", "find_shipped", "shipped"]


@dataclass(frozen=True)
class Shipped:
    stem: str
    path: Path
    name: str
    description: str


def _folder() -> Path:
    return Path(str(resources.files("subnet") / "scenarios"))


def shipped() -> list[Shipped]:
    """Every shipped scenario, by file name (a broken one raises: it is a bug of ours)."""
    items = []
    for path in sorted(_folder().glob("*.toml")):
        try:
            scenario = parse_scenario(path.read_text())
        except ScenarioError as exc:
            raise ScenarioError(f"{path}: {exc}") from None
        items.append(Shipped(path.stem, path, scenario.name, scenario.description))
    return items


def find_shipped(stem: str) -> Path | None:
    path = _folder() / f"{stem}.toml"
    return path if path.is_file() else None
