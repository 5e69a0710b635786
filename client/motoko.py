"""Compile Motoko sources to canister Wasm with the npm package ``motoko`` under Node.js.

The package bundles the official ``moc`` compiler compiled to JavaScript, so the only
requirement on the machine is Node.js with npm. The package is installed once, at a pinned
version, into the project's own cache directory (never globally), and every compilation is
cached by the hash of the compiler version and the source, so that rerunning a test suite
does not recompile anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from vocab.errors import SubnetError

MOTOKO_VERSION = "4.10.0"
"""The pinned npm ``motoko`` version (its ``moc`` defaults to enhanced orthogonal persistence)."""

BASE_VERSION = "3.20.0"
"""The npm ``motoko`` version whose ``packages/latest/base.json`` is the ``base`` library.

The compiler's own package bundles only ``core`` (``packages/latest/core.json``); 3.20.0 is
the last one that carries ``base`` (for moc 0.15), which compiles with the pinned compiler.
Only that JSON file is used from it.
"""

DEFAULT_LIBRARIES = ("core", "base")
"""The packages every compilation has, as dfx users expect ``mo:core`` and ``mo:base`` to be."""

_REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE_DIR = _REPO_ROOT / ".cache" / "motoko"
_INSTALL_TIMEOUT = 600
_COMPILE_TIMEOUT = 300

_COMPILER_SCRIPT = r"""
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const mo = require(input.package);
for (const [path, text] of Object.entries(input.files)) { mo.write(path, text); }
let result;
try {
  for (const file of input.library_files) { mo.loadPackage(JSON.parse(fs.readFileSync(file, 'utf8'))); }
  for (const [name, files] of Object.entries(input.packages)) {
    const directory = `.subnet-packages/${name}`;
    for (const [path, text] of Object.entries(files)) { mo.write(`${directory}/${path}`, text); }
    mo.usePackage(name, directory);
  }
  const aliases = {};
  for (const [name, [id, candid]] of Object.entries(input.aliases)) {
    mo.write(`.subnet-idl/${id}.did`, candid);
    aliases[name] = id;
  }
  if (Object.keys(aliases).length) { mo.setAliases('.subnet-idl', aliases); }
  // The compiler's own call, not mo.wasm (which keeps only the messages): the diagnostics
  // are printed as moc prints them, "file:line.col-line.col: category error [code], message".
  const out = mo.compiler.compileWasm('ic', input.main);
  if (!out.code) {
    const kinds = { 1: 'error', 2: 'warning', 3: 'info', 4: 'hint' };
    const lines = (out.diagnostics || []).map((d) => {
      const at = `${d.range.start.line + 1}.${d.range.start.character + 1}-${d.range.end.line + 1}.${d.range.end.character + 1}`;
      const kind = `${d.category ? d.category + ' ' : ''}${kinds[d.severity] || 'error'}`;
      return `${d.source}:${at}: ${kind}${d.code ? ' [' + d.code + ']' : ''}, ${d.message}`;
    });
    throw new Error(lines.length ? lines.join('\n') : '(no diagnostics)');
  }
  result = out.code;
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error && error.message || error) }));
  process.exit(0);
}
fs.writeFileSync(input.out + '.wasm', Buffer.from(result.wasm));
fs.writeFileSync(input.out + '.did', result.candid || '');
fs.writeFileSync(input.out + '.most', result.stable || '');
process.stdout.write(JSON.stringify({ ok: true }));
"""


class MotokoError(SubnetError):
    """Motoko compilation failed, or the toolchain is missing; the message says which."""


class MissingPackage(MotokoError):
    """A source imports ``mo:NAME/...`` and no package NAME is defined."""

    def __init__(self, message: str, package: str) -> None:
        super().__init__(message)
        self.package = package


_MISSING_PACKAGE = re.compile(r'package "([^"]*)" not defined')
_PACKAGE_IMPORT = re.compile(r'"mo:')
_MISSING_ALIAS = re.compile(r'canister alias "([^"]*)" not defined')


class NodeNotFound(MotokoError):
    """Node.js (or npm) is not installed."""


@dataclass(frozen=True)
class MotokoCanister:
    """A compiled canister: its Wasm module, Candid interface and stable type signature."""

    wasm: bytes
    candid: str
    stable_types: str
    source_hash: str


class MotokoCompiler:
    """The pinned ``motoko`` package in a cache directory, and a cache of its outputs."""

    def __init__(self, cache_dir: Path | str | None = None, version: str = MOTOKO_VERSION) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
        self.version = version

    # -- toolchain -------------------------------------------------------------------------

    @staticmethod
    def _tool(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            raise NodeNotFound(
                f"Motoko compilation needs Node.js: '{name}' was not found on PATH. Install Node.js "
                "(which includes npm) from https://nodejs.org or your package manager, then retry."
            )
        return path

    @property
    def package_dir(self) -> Path:
        return self.cache_dir / f"npm-{self.version}" / "node_modules" / "motoko"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialize installs across processes (pytest-xdist workers share the cache)."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _installed_version(self) -> str | None:
        manifest = self.package_dir / "package.json"
        try:
            return json.loads(manifest.read_text()).get("version")
        except (OSError, ValueError):
            return None

    def ensure_installed(self, *, need_node: bool = True) -> Path:
        """Install the pinned package once (``npm install --prefix``); return its directory."""
        if need_node:
            self._tool("node")
        if self._installed_version() == self.version:
            return self.package_dir
        npm = self._tool("npm")
        with self._lock():
            if self._installed_version() == self.version:
                return self.package_dir
            prefix = self.package_dir.parent.parent
            prefix.mkdir(parents=True, exist_ok=True)
            command = [
                npm,
                "install",
                "--prefix",
                str(prefix),
                f"motoko@{self.version}",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--save-exact",
            ]
            try:
                completed = subprocess.run(
                    command, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise MotokoError(f"npm install motoko@{self.version} timed out") from exc
            if completed.returncode != 0 or self._installed_version() != self.version:
                raise MotokoError(
                    f"npm install motoko@{self.version} failed (exit {completed.returncode}): "
                    f"{completed.stderr.strip()[-2000:]}"
                )
        return self.package_dir

    # -- compiling -------------------------------------------------------------------------

    def source_hash(
        self,
        files: dict[str, str],
        main: str,
        packages: dict[str, dict[str, str]] | None = None,
        aliases: dict[str, tuple[str, str]] | None = None,
        defaults: Sequence[str] | None = None,
    ) -> str:
        """The cache key: compiler version, main file, sources and, when a source imports a
        package at all (``"mo:``), the package set (the default libraries used, ``defaults``,
        by version; the project's packages by content). A source that imports none compiles
        the same whatever packages are defined, so its key does not name them."""
        h = hashlib.sha256()
        h.update(f"motoko {self.version}\0main {main}\0".encode())
        for path in sorted(files):
            data = files[path].encode("utf-8")
            h.update(path.encode("utf-8") + b"\0" + len(data).to_bytes(8, "big") + data)
        if packages is not None and _imports_packages(files):
            if defaults is None:
                defaults = [name for name in DEFAULT_LIBRARIES if name not in packages]
            libraries = list(defaults)
            h.update(f"libraries {' '.join(libraries)} base {BASE_VERSION}\0".encode())
            for name in sorted(packages):
                h.update(f"package {name}\0".encode())
                for path in sorted(packages[name]):
                    data = packages[name][path].encode("utf-8")
                    h.update(path.encode("utf-8") + b"\0" + len(data).to_bytes(8, "big") + data)
        for name in sorted(aliases or {}):
            canister_id, candid = (aliases or {})[name]
            data = candid.encode("utf-8")
            h.update(f"alias {name} {canister_id}\0".encode() + len(data).to_bytes(8, "big") + data)
        return h.hexdigest()

    def library_files(self, names: Sequence[str]) -> list[str]:
        """The JSON files of the default libraries ``names`` (``core`` from the compiler's
        package, ``base`` from npm ``motoko`` BASE_VERSION, installed on first use)."""
        files = []
        if "core" in names:
            files.append(self.ensure_installed() / "packages" / "latest" / "core.json")
        if "base" in names:
            carrier = MotokoCompiler(self.cache_dir, BASE_VERSION).ensure_installed(need_node=False)
            files.append(carrier / "packages" / "latest" / "base.json")
        for file in files:
            if not file.is_file():
                raise MotokoError(f"the Motoko library {file.stem} is missing: {file} does not exist")
        return [str(file) for file in files]

    def run_script(self, script: str, request: str, timeout: float, what: str) -> dict:
        """Run a JS snippet that talks JSON (stdin in, stdout out) with the pinned package."""
        try:
            completed = subprocess.run(
                [self._tool("node"), "-e", script],
                input=request,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise MotokoError(f"{what} timed out") from exc
        if completed.returncode != 0:
            raise MotokoError(f"the Motoko compiler crashed: {completed.stderr.strip()[-2000:]}")
        try:
            status = json.loads(completed.stdout)
        except ValueError as exc:
            raise MotokoError(f"unexpected compiler output: {completed.stdout[-500:]!r}") from exc
        if not isinstance(status, dict):
            raise MotokoError(f"unexpected compiler output: {completed.stdout[-500:]!r}")
        return status

    def compile(
        self,
        source: str,
        *,
        main: str = "Main.mo",
        extra_files: dict[str, str] | None = None,
        packages: dict[str, dict[str, str]] | None = None,
        aliases: dict[str, tuple[str, str]] | None = None,
        libraries: Sequence[str] = DEFAULT_LIBRARIES,
    ) -> MotokoCanister:
        """Compile ``source`` (the main actor file) with optional imported files.

        ``packages`` maps a package name to its files (path inside the package -> text):
        ``import X "mo:NAME/X"`` finds ``X.mo`` there. The default ``libraries`` (``core``
        and ``base`` unless told otherwise; none under a packtool, as in dfx) are defined
        too; a package of the same name replaces one. ``aliases`` maps a canister name
        to its id (text) and Candid interface: ``import X "canister:NAME"`` is then that
        canister, typed by its Candid (moc's ``--actor-alias`` and ``--actor-idl``).
        """
        unknown = sorted(set(libraries) - set(DEFAULT_LIBRARIES))
        if unknown:
            raise MotokoError(f"no default library {unknown[0]!r} (there are {', '.join(DEFAULT_LIBRARIES)})")
        files = dict(extra_files or {})
        files[main] = source
        packages = dict(packages or {})
        aliases = dict(aliases or {})
        defaults = [name for name in DEFAULT_LIBRARIES if name in libraries and name not in packages]
        key = self.source_hash(files, main, packages, aliases, defaults)
        out_dir = self.cache_dir / "out"
        base = out_dir / key
        cached = self._load(base, key)
        if cached is not None:
            return cached
        package = self.ensure_installed()
        library_files = self.library_files(defaults) if _imports_packages(files) else []
        out_dir.mkdir(parents=True, exist_ok=True)
        temp = out_dir / f"{key}.tmp{os.getpid()}"
        request = json.dumps(
            {
                "package": str(package),
                "files": files,
                "main": main,
                "out": str(temp),
                "library_files": library_files,
                "packages": packages,
                "aliases": aliases,
            }
        )
        status = self.run_script(_COMPILER_SCRIPT, request, _COMPILE_TIMEOUT, f"Motoko compilation of {main}")
        if not status.get("ok"):
            error = str(status.get("error"))
            missing = _MISSING_PACKAGE.search(error)
            if missing is not None:
                name = missing.group(1)
                raise MissingPackage(
                    f"Motoko compilation of {main} failed: package {name!r} is not defined ({error.strip()}). "
                    f"Defined: {', '.join(sorted({*defaults, *packages})) or 'none'}; add {name!r} to "
                    "'packages' in the project file, or have defaults.build.packtool print "
                    f"'--package {name} PATH'.",
                    name,
                )
            alias = _MISSING_ALIAS.search(error)
            if alias is not None:
                raise MotokoError(
                    f'Motoko compilation of {main} failed: {error.strip()}: `import ... "canister:{alias.group(1)}"` '
                    f"needs {alias.group(1)!r} in this canister's 'dependencies' in the project file"
                )
            raise MotokoError(f"Motoko compilation of {main} failed:\n{error}")
        for suffix in (".wasm", ".did", ".most"):
            os.replace(f"{temp}{suffix}", f"{base}{suffix}")
        result = self._load(base, key)
        assert result is not None
        return result

    @staticmethod
    def _load(base: Path, key: str) -> MotokoCanister | None:
        try:
            wasm = base.with_suffix(".wasm").read_bytes()
            candid = base.with_suffix(".did").read_text()
            stable = base.with_suffix(".most").read_text()
        except OSError:
            return None
        return MotokoCanister(wasm, candid, stable, key)


def compile_motoko(
    source: str,
    *,
    main: str = "Main.mo",
    extra_files: dict[str, str] | None = None,
    packages: dict[str, dict[str, str]] | None = None,
    cache_dir: Path | str | None = None,
    aliases: dict[str, tuple[str, str]] | None = None,
    libraries: Sequence[str] = DEFAULT_LIBRARIES,
) -> MotokoCanister:
    """Compile a Motoko actor with the pinned compiler, using the project cache.

    ``mo:core`` and ``mo:base`` are available (the default ``libraries``); ``packages`` adds
    (or replaces) others; ``aliases`` (name -> (canister id, Candid)) defines
    ``canister:NAME`` imports.
    """
    return MotokoCompiler(cache_dir).compile(
        source, main=main, extra_files=extra_files, packages=packages, aliases=aliases, libraries=libraries
    )


def _imports_packages(files: dict[str, str]) -> bool:
    return any(_PACKAGE_IMPORT.search(text) for text in files.values())


def read_package(name: str, directory: Path) -> dict[str, str]:
    """The ``.mo`` files under ``directory`` (path inside it -> text), a package's contents."""
    if not directory.is_dir():
        raise MotokoError(f"package {name!r}: {directory} is not a directory")
    try:
        return {
            path.relative_to(directory).as_posix(): path.read_text()
            for path in sorted(directory.rglob("*.mo"))
            if path.is_file()
        }
    except (OSError, UnicodeDecodeError) as exc:
        raise MotokoError(f"package {name!r}: cannot read {directory}: {exc}") from exc


# -- stable-type compatibility (``moc --stable-compatible``) ------------------------------------

_STABLE_CHECK_TIMEOUT = 120

_STABLE_CHECK_SCRIPT = r"""
const fs = require('fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const mo = require(input.package);
let result;
try {
  mo.write(input.pre_path, input.pre);
  mo.write(input.post_path, input.post);
  result = mo.compiler.stableCompatible(input.pre_path, input.post_path);
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error && error.message || error) }));
  process.exit(0);
}
const diagnostics = Array.from(result.diagnostics || [], (d) => ({
  severity: d.severity, code: String(d.code || ''), category: String(d.category || ''),
  source: String(d.source || ''), message: String(d.message || ''),
}));
process.stdout.write(JSON.stringify({ ok: true, diagnostics }));
"""


@dataclass(frozen=True)
class MotokoDiagnostic:
    """One message of ``moc``: kept whole so that a caller can show exactly what moc said.

    ``severity`` is ``"error"`` or ``"warning"``; ``code`` is moc's (``M0170``...);
    ``source`` names the file the message is about, empty when it is about the pair.
    """

    severity: str
    code: str
    category: str
    source: str
    message: str


def stable_compatible(
    pre: str,
    post: str,
    *,
    pre_name: str = "pre.most",
    post_name: str = "post.most",
    cache_dir: Path | str | None = None,
) -> list[MotokoDiagnostic]:
    """Run the pinned moc's ``--stable-compatible`` check of two ``.most`` signatures.

    The package's ``stableCompatible(prePath, postPath)`` reads both from moc's virtual
    file system, so the texts are written there under ``pre_name``/``post_name`` (the
    names moc uses when a signature does not parse). The upgrade from ``pre`` to ``post``
    is safe when no diagnostic is an error.

    The verdict is a function of the pinned compiler and the four texts, so it is kept in
    the cache (``stable/<key>.json``, the key a hash of all five) as compilations are:
    each check otherwise starts Node.js and loads moc (most of a second of CPU), and an
    upgrade, or a test suite, asks the same question again.
    """
    compiler = MotokoCompiler(cache_dir)
    question = {
        "version": compiler.version,
        "script": _STABLE_CHECK_SCRIPT,
        "pre": pre,
        "post": post,
        "pre_path": pre_name,
        "post_path": post_name,
    }
    key = hashlib.sha256(json.dumps(question, sort_keys=True).encode()).hexdigest()
    cached = compiler.cache_dir / "stable" / f"{key}.json"
    try:
        status = json.loads(cached.read_text())
    except (OSError, ValueError):
        status = None
    if not isinstance(status, dict) or not status.get("ok"):
        package = compiler.ensure_installed()
        request = json.dumps(
            {"package": str(package), "pre": pre, "post": post, "pre_path": pre_name, "post_path": post_name}
        )
        status = compiler.run_script(
            _STABLE_CHECK_SCRIPT, request, _STABLE_CHECK_TIMEOUT, "the Motoko stable-compatibility check"
        )
        if not status.get("ok"):
            raise MotokoError(f"the Motoko stable-compatibility check failed to run: {status.get('error')}")
        cached.parent.mkdir(parents=True, exist_ok=True)
        temp = cached.with_suffix(f".tmp{os.getpid()}")
        temp.write_text(json.dumps(status))
        os.replace(temp, cached)
    return [
        MotokoDiagnostic(
            "error" if item.get("severity") == 1 else "warning",
            item["code"],
            item["category"],
            item["source"],
            item["message"],
        )
        for item in status["diagnostics"]
    ]
