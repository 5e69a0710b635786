"""Rehearsing a canister upgrade: what `subnet canister install NAME --mode upgrade --rehearse` does.

Two halves, as the real upgrade has them. The client's: dfx's checks (the new Candid
service a subtype of the deployed one, Motoko stable types compatible: ``upgrade_check``),
which decide whether `install` would go on at all. The replica's: the upgrade itself run
on a copy of the canister in its latest certified state (``node.ic.rehearsal``, asked for
with ``Agent.rehearse_upgrade``, answered by one replica and signed by it, or agreed by K),
which reports the instructions ``pre_upgrade``, the start function and ``post_upgrade``
used against the limit of an ``install_code`` message, the heap and stable memory before
and after, and a trap with its message and the hook it happened in. Nothing is changed.

``failure`` says why the real upgrade would fail (or stop before it is sent), or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from client.agent import Agent
from client.deploy import InstallOptions, module_and_argument, upgrade_mode, upgrade_problems
from client.upgrade_check import UpgradeProblem
from vocab import management
from vocab.errors import SubnetError
from vocab.principal import Principal

MAX_REHEARSED_MODULE = 7 * 1024 * 1024
"""A rehearsal carries the module in one request, under the 8 MiB frame limit."""


@dataclass(frozen=True)
class CanisterRehearsal:
    """The compatibility problems found here and the replica's report of the upgrade."""

    name: str
    canister_id: Principal
    problems: list[UpgradeProblem]
    report: dict[str, Any]

    def failure(self) -> str | None:
        """Why the real upgrade would not go through; ``None`` when it would."""
        stable_errors = [p for p in self.problems if p.kind == "stable-types" and p.severity == "error"]
        if stable_errors:
            return (
                "the stable types are incompatible (an ERROR: `install` refuses this upgrade even with --yes)"
            )
        error = self.report.get("error")
        if error is not None:
            return f"{error['during']} failed: {error['message']} [{error['error_code']}]"
        if self.problems:
            return (
                f"{len(self.problems)} compatibility problem(s): `install` stops before upgrading "
                "unless --yes (or a yes on standard input)"
            )
        return None

    def to_json(self) -> dict[str, Any]:
        failure = self.failure()
        return {
            "canister": self.name,
            "canister_id": self.canister_id.to_text(),
            "compatibility": [
                {"kind": p.kind, "severity": p.severity, "message": p.message} for p in self.problems
            ],
            "upgrade": self.report,
            "would_succeed": failure is None,
            "failure": failure,
        }


async def rehearse_upgrade(
    agent: Agent, name: str, canister_id: Principal, options: InstallOptions, replicas_agree: int = 1
) -> CanisterRehearsal:
    """Run dfx's checks, then the upgrade on a copy of a replica's state (mode upgrade with
    the options ``install`` would use); change nothing."""
    if options.mode not in ("upgrade", "auto"):
        raise SubnetError(f"only an upgrade can be rehearsed, not mode {options.mode} (use --mode upgrade)")
    module, arg = module_and_argument(name, options)
    if len(module) > MAX_REHEARSED_MODULE:
        raise SubnetError(
            f"the module is {len(module)} bytes; a rehearsal carries it in one request of at most "
            f"{MAX_REHEARSED_MODULE} bytes"
        )
    problems = await upgrade_problems(agent, canister_id, module)
    mode = await upgrade_mode(agent, canister_id, options)
    request = management.InstallCodeArgs(mode, canister_id, module, arg)
    report = await agent.rehearse_upgrade(
        management.encode_args(management.INSTALL_CODE, request), replicas_agree
    )
    return CanisterRehearsal(name, canister_id, problems, report)


__all__ = ["MAX_REHEARSED_MODULE", "CanisterRehearsal", "rehearse_upgrade"]
