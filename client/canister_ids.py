"""`canister_ids.json`: canister names to ids per network, in the file format dfx writes.

``{"backend": {"local": "rrkah-fqaaa-aaaaa-aaaaq-cai"}}``. Commands accept a name or a
textual canister id wherever a canister is expected, as dfx does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from client.project import project_root
from vocab.errors import PrincipalError, SubnetError
from vocab.principal import Principal

FILE_NAME = "canister_ids.json"


class CanisterIdsError(SubnetError):
    """The file is unreadable, or a name is not in it."""


class CanisterIds:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries = self._read()

    @classmethod
    def in_directory(cls, directory: Path | None = None) -> CanisterIds:
        """The ids of the project in ``directory`` (default: the one the current directory
        is in, at its root, as dfx keeps them wherever it is run from)."""
        return cls((directory or project_root()) / FILE_NAME)

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise CanisterIdsError(f"{self.path}: not readable JSON ({exc})") from exc
        if not isinstance(data, dict) or not all(
            isinstance(networks, dict) and all(isinstance(v, str) for v in networks.values())
            for networks in data.values()
        ):
            raise CanisterIdsError(f"{self.path}: expected {{name: {{network: id}}}}")
        return data

    def names(self, network: str) -> list[str]:
        return sorted(name for name, networks in self._entries.items() if network in networks)

    def get(self, name: str, network: str) -> Principal | None:
        text = self._entries.get(name, {}).get(network)
        if text is None:
            return None
        try:
            return Principal.from_text(text)
        except PrincipalError as exc:
            raise CanisterIdsError(f"{self.path}: {name} on {network}: {exc}") from exc

    def resolve(self, name_or_id: str, network: str) -> Principal:
        """A name from the file, else a textual canister id, else a clear error."""
        found = self.get(name_or_id, network)
        if found is not None:
            return found
        try:
            return Principal.from_text(name_or_id)
        except PrincipalError:
            pass
        raise CanisterIdsError(
            f"unknown canister {name_or_id!r} on network {network!r}: not in {self.path} and not a canister id"
        )

    def set(self, name: str, network: str, canister_id: Principal) -> None:
        self._entries.setdefault(name, {})[network] = canister_id.to_text()
        self._write()

    def remove(self, name: str, network: str) -> None:
        networks = self._entries.get(name)
        if networks and network in networks:
            del networks[network]
            if not networks:
                del self._entries[name]
            self._write()

    def _write(self) -> None:
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self._entries, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, self.path)
