"""The network a client talks to: the local subnet of the project directory.

`subnet start` describes the subnet it runs in ``.subnet/local/genesis.json`` (the
committee's node ids, public keys and addresses), as `dfx start` leaves its replica's
address under ``.dfx/``. A client reads that file to know where to send requests and
whose signatures to trust; nothing else about the replicas is shared with it.
"""

from __future__ import annotations

from pathlib import Path

from client.agent import Agent, Endpoint
from client.identity import resolve
from client.project import project_root
from vocab.errors import SubnetError
from vocab.genesis import Genesis, GenesisError

LOCAL_DIR = Path(".subnet") / "local"
"""Where the local subnet lives, relative to the project directory."""
LOCAL_NETWORK = "local"
"""The only network name (as in canister_ids.json) a client can reach."""


def local_root(directory: Path | None = None) -> Path:
    """The local subnet's directory for the project in ``directory`` (default: the project
    the current directory is in, at its root, so that commands work from its
    subdirectories; outside a project, the current directory)."""
    return (directory or project_root()) / LOCAL_DIR


def load_genesis(root: Path | None = None) -> Genesis:
    """The local subnet's genesis, or an error that says to start the subnet."""
    path = (root or local_root()) / "genesis.json"
    try:
        return Genesis.from_json(path.read_text())
    except FileNotFoundError as exc:
        raise SubnetError(f"no local subnet here ({path} is missing); run `subnet start` first") from exc
    except GenesisError as exc:
        raise SubnetError(f"{path}: {exc}") from exc


def endpoints(genesis: Genesis) -> list[Endpoint]:
    """One endpoint per replica, in committee order."""
    out = []
    for index, entry in enumerate(genesis.nodes):
        host, _, port = entry.address.rpartition(":")
        out.append(Endpoint(index, host, int(port)))
    return out


def network_agent(network: str, identity_name: str | None = None) -> Agent:
    """An agent for ``network`` (only ``local``: the subnet of the current directory),
    signing as the identity ``identity_name`` (default: the current one).

    The subnet is looked up before the identity, so that a command run where no subnet
    is does not first create the ``default`` identity."""
    if network != LOCAL_NETWORK:
        raise SubnetError(f"unknown network {network!r}: only the local subnet is supported")
    genesis = load_genesis()
    return Agent(endpoints(genesis), genesis.committee, resolve(identity_name))
