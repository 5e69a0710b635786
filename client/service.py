"""Where a canister's Candid service comes from, so that arguments and replies can be typed.

In order of trust: a ``.did`` file the user names; the service of the module the canister
runs now (its ``candid:service`` metadata, readable by this identity); the project's
build (the ``.did`` next to the built module, or a custom canister's own); the
``candid:service`` section of a module about to be installed. Without any of them,
Candid text is encoded and decoded untyped.
"""

from __future__ import annotations

from pathlib import Path

from client.agent import Agent
from client.metadata import fetch_metadata
from client.project import Project, ProjectError
from client.upgrade_check import CANDID_SERVICE, ModuleMetadataError, metadata_section
from vocab import candid
from vocab.errors import CandidError, RejectError
from vocab.principal import Principal


def module_section(module: bytes, name: str) -> bytes | None:
    """An ``icp:public``/``icp:private`` custom section of a module; None if absent or if
    the bytes are not a readable module (the subnet then says what is wrong with it)."""
    try:
        return metadata_section(module, name)
    except ModuleMetadataError:
        return None


def local_service(
    name: str, explicit: Path | None, module: bytes | None = None
) -> candid.ServiceDescription | None:
    """The canister's Candid: ``explicit``, else the project's .did, else the module's
    metadata (``module``, or the project's module for ``name``)."""
    if explicit is not None:
        return candid.load_did(str(explicit))
    try:
        project = Project.find()
        config = project.canister(name)
    except ProjectError:
        config = None
    if config is not None:
        did = config.candid if config.type == "custom" else project.output_dir(name) / f"{name}.did"
        if did is not None and did.is_file():
            return candid.load_did(str(did))
        if module is None and config.type == "custom" and config.wasm is not None and config.wasm.is_file():
            module = config.wasm.read_bytes()
        elif module is None:
            built = project.output_dir(name) / f"{name}.wasm"
            module = built.read_bytes() if built.is_file() else None
    if module is not None:
        text = module_section(module, "candid:service")
        if text is not None:
            return candid.parse_did(text.decode("utf-8", "replace"))
    return None


async def deployed_service(agent: Agent, canister_id: Principal) -> candid.ServiceDescription | None:
    """The Candid service of the module the canister runs now, when its metadata is
    readable by this identity (Motoko keeps it ``icp:private``: controllers only)."""
    try:
        text = await fetch_metadata(agent, canister_id, CANDID_SERVICE)
    except RejectError:
        return None
    if text is None:
        return None
    try:
        return candid.parse_did(text.decode("utf-8", "replace"))
    except CandidError:
        return None
