"""Named Ed25519 identities stored as PEM files, like dfx's.

Layout under the config directory (``$SUBNET_CONFIG_DIR``, default ``~/.config/subnet``)::

    identity.json                      {"default": "<current identity name>"}
    identity/<name>/identity.pem       PKCS#8 PEM, mode 0600

Every operation checks everything first and writes last, so a command that fails leaves
the directory as it was. Files are written to a temporary name and renamed, so a crash
never leaves half a key behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vocab import crypto
from vocab.errors import IdentityError
from vocab.principal import Principal
from vocab.sui.address import SuiAddress

DEFAULT_NAME = "default"
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def config_dir() -> Path:
    configured = os.environ.get("SUBNET_CONFIG_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".config" / "subnet"


@dataclass(frozen=True)
class Identity:
    name: str
    key: Ed25519PrivateKey

    @property
    def public_key_der(self) -> bytes:
        return crypto.der_public_key(self.key)

    @cached_property
    def principal(self) -> Principal:
        """Computed once: an agent names it in every request it signs."""
        return Principal.self_authenticating(self.public_key_der)

    @property
    def sui_address(self) -> SuiAddress:
        return SuiAddress.from_ed25519_public_key(crypto.raw_public_key(self.key))

    def to_pem(self) -> bytes:
        return crypto.private_key_pem(self.key)


class IdentityStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else config_dir()

    # -- paths ----------------------------------------------------------------------------

    @property
    def _identities(self) -> Path:
        return self.root / "identity"

    @property
    def _selection(self) -> Path:
        return self.root / "identity.json"

    def _pem_path(self, name: str) -> Path:
        return self._identities / name / "identity.pem"

    # -- queries --------------------------------------------------------------------------

    @staticmethod
    def check_name(name: str) -> None:
        if not _NAME_PATTERN.match(name):
            raise IdentityError(
                f"invalid identity name {name!r}: use letters, digits, '.', '_', '@' or '-', "
                "starting with a letter or digit, at most 64 characters"
            )

    def names(self) -> list[str]:
        if not self._identities.is_dir():
            return []
        return sorted(path.parent.name for path in self._identities.glob("*/identity.pem"))

    def exists(self, name: str) -> bool:
        return self._pem_path(name).is_file()

    def selected(self) -> str | None:
        """The name in identity.json, whether or not that identity still exists."""
        try:
            data = json.loads(self._selection.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IdentityError(f"{self._selection}: unreadable ({exc})") from exc
        name = data.get("default") if isinstance(data, dict) else None
        return name if isinstance(name, str) else None

    def load(self, name: str) -> Identity:
        self.check_name(name)
        path = self._pem_path(name)
        if not path.is_file():
            raise IdentityError(f"unknown identity {name!r}; `subnet identity list` shows the known ones")
        return Identity(name, crypto.parse_private_key_pem(path.read_bytes(), str(path)))

    def current(self) -> Identity:
        """The selected identity; on first use, create and select `default`."""
        name = self.selected()
        if name is None:
            if not self.exists(DEFAULT_NAME):
                self._write(DEFAULT_NAME, Ed25519PrivateKey.generate())
            self._select(DEFAULT_NAME)
            name = DEFAULT_NAME
        return self.load(name)

    # -- changes --------------------------------------------------------------------------

    def new(self, name: str, *, force: bool = False) -> Identity:
        return self._add(name, Ed25519PrivateKey.generate(), force=force)

    def import_pem(self, name: str, data: bytes, source: str, *, force: bool = False) -> Identity:
        return self._add(name, crypto.parse_private_key_pem(data, source), force=force)

    def use(self, name: str) -> None:
        self.load(name)
        self._select(name)

    def remove(self, name: str) -> None:
        self.load(name)
        if self.selected() == name:
            raise IdentityError(
                f"cannot remove {name!r}: it is the current identity; `subnet identity use` another first"
            )
        shutil.rmtree(self._pem_path(name).parent)

    def _add(self, name: str, key: Ed25519PrivateKey, *, force: bool) -> Identity:
        self.check_name(name)
        if self.exists(name) and not force:
            raise IdentityError(f"identity {name!r} already exists; use --force to replace it")
        self._write(name, key)
        if self.selected() is None:
            # The first identity a user makes becomes current, rather than a `default`
            # they never asked for.
            self._select(name)
        return Identity(name, key)

    def _write(self, name: str, key: Ed25519PrivateKey) -> None:
        path = self._pem_path(name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Identity(name, key).to_pem()
        temporary = path.with_suffix(".pem.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)

    def _select(self, name: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self._selection.with_suffix(".json.tmp")
        temporary.write_text(json.dumps({"default": name}) + "\n")
        os.replace(temporary, self._selection)


def resolve(identity_name: str | None, store: IdentityStore | None = None) -> Identity:
    """The identity a command runs as: --identity NAME if given, else the current one."""
    store = store or IdentityStore()
    if identity_name is not None:
        return store.load(identity_name)
    return store.current()
