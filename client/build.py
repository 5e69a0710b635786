"""Building a project's canisters, like `dfx build`.

Motoko canisters are compiled with the pinned compiler (``client.motoko``) into
``.subnet/local/canisters/<name>/<name>.wasm`` with their ``.did`` (and the stable types
``.most``, which upgrade checks read), with the project's packages (``client.packages``:
``mo:core`` and ``mo:base``, or a packtool's, and the project file's map) defined, and each dependency named in ``dependencies`` known
to the compiler by its id and Candid (``import X "canister:NAME"``); custom canisters are
already built, and their paths are only checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client.motoko import compile_motoko
from client.packages import default_libraries, project_packages
from client.project import Project, ProjectError
from vocab.principal import Principal


@dataclass(frozen=True)
class Built:
    wasm: Path
    """The module to install."""
    compiled_bytes: int | None
    """The compiled module's size; None for a custom canister, which is not compiled here."""


CanisterIdOf = Callable[[str], Principal | None]
"""The id a canister of the project has on the network built for (``None``: not created)."""


def dependency_aliases(project: Project, name: str, ids: CanisterIdOf | None) -> dict[str, tuple[str, str]]:
    """For each canister ``name`` depends on: its id and its Candid, what moc's
    ``--actor-alias`` and ``--actor-idl`` give the compiler for ``import X "canister:dep"``."""
    aliases = {}
    for dependency in project.canister(name).dependencies:
        canister_id = ids(dependency) if ids is not None else None
        if canister_id is None:
            raise ProjectError(
                f"canister {name}: its dependency {dependency!r} has no canister id yet; create it first "
                f"(`subnet canister create {dependency}`, or `subnet deploy`, which creates it)"
            )
        candid = project.candid_file(dependency)
        try:
            text = candid.read_text()
        except OSError:
            raise ProjectError(
                f"canister {name}: the Candid interface of its dependency {dependency!r} ({candid}) "
                f"is missing: build {dependency!r} first (`subnet build` builds dependencies first)"
            ) from None
        aliases[dependency] = (canister_id.to_text(), text)
    return aliases


def build_canister(project: Project, name: str, ids: CanisterIdOf | None = None) -> Built:
    """Compile (Motoko) or check (custom) one canister; ``ids`` tells its dependencies' ids."""
    config = project.canister(name)
    if config.type == "custom":
        for path in (config.wasm, config.candid):
            if path is None or not path.is_file():
                raise ProjectError(f"canister {name}: {path} does not exist")
        assert config.wasm is not None
        return Built(config.wasm, None)
    assert config.main is not None
    try:
        source = config.main.read_text()
    except OSError as exc:
        raise ProjectError(f"canister {name}: cannot read {config.main}: {exc}") from exc
    # The main file's siblings (and their subdirectories) are what it may import.
    base = config.main.parent
    extra = {
        str(path.relative_to(base)): path.read_text()
        for path in sorted(base.rglob("*.mo"))
        if path != config.main
    }
    built = compile_motoko(
        source,
        main=config.main.name,
        extra_files=extra,
        packages=project_packages(project),
        aliases=dependency_aliases(project, name, ids),
        libraries=default_libraries(project),
    )
    out = project.output_dir(name)
    out.mkdir(parents=True, exist_ok=True)
    wasm = out / f"{name}.wasm"
    wasm.write_bytes(built.wasm)
    (out / f"{name}.did").write_text(built.candid)
    (out / f"{name}.most").write_text(built.stable_types)
    return Built(wasm, len(built.wasm))
