"""How `subnet canister` shows results: text worded like dfx's, or JSON.

Times are shown as dfx shows them (RFC 3339 for log records and history entries, a UTC
date for snapshots); byte sizes in binary units; values JSON cannot hold as they are
(blobs, principals, variants, integers beyond 2^53) in a lossless text form.
"""

from __future__ import annotations

import datetime
import json
import unicodedata
from typing import Any

from client.deploy import Installed
from client.rehearse import CanisterRehearsal
from vocab import candid, management
from vocab.candid.idl2json import format_args_json
from vocab.principal import Principal


def created_line(name: str, network: str, canister_id: Principal, created: bool) -> str:
    if created:
        return f'{name} canister created on network "{network}" with canister id: {canister_id}'
    return f'{name} canister was already created on network "{network}" and has canister id: {canister_id}'


def installed_line(name: str, canister_id: Principal, installed: Installed) -> str:
    if installed.unchanged:
        return f"Module hash {installed.module_hash.hex()} is already installed."
    verb = {"install": "Installed", "reinstall": "Reinstalled", "upgrade": "Upgraded"}[installed.mode]
    return f"{verb} code for canister {name}, with canister ID {canister_id}"


def rehearsal_text(rehearsal: CanisterRehearsal) -> str:
    """A rehearsed upgrade: dfx's checks, the replica's run of it, and the verdict."""
    report = rehearsal.report
    lines = [
        f"Rehearsed the upgrade of canister {rehearsal.name} ({rehearsal.canister_id}) on a copy of "
        "a replica's certified state; nothing was changed."
    ]
    if rehearsal.problems:
        lines.append("Compatibility: PROBLEMS")
        lines += [
            f"  - [{p.kind} {p.severity}] " + p.message.replace("\n", "\n    ") for p in rehearsal.problems
        ]
    else:
        lines.append("Compatibility: OK (Candid interface, stable types)")
    before, after = report["module_hash_before"], report["module_hash_after"]
    lines.append(
        f"Module hash: {_hash(before)} -> {_hash(after) if after else '(unchanged: the upgrade failed)'}"
    )
    limit, ic_limit = report["instruction_limit"], report["ic_instruction_limit"]
    scale = "" if limit == ic_limit else f"; this subnet's, scaled from the IC's {ic_limit:,}"
    lines.append(f"Instructions (limit {limit:,} for one install_code{scale}):")
    for hook in ("pre_upgrade", "start", "post_upgrade"):
        if hook in report["instructions"]:
            lines.append(f"  {hook:<13} {report['instructions'][hook]:>17,}")
    headroom = report["headroom_basis_points"]
    lines.append(
        f"  {'total':<13} {report['instructions_total']:>17,}   headroom {headroom // 100}.{headroom % 100:02d}%"
    )
    lines.append("Memory (bytes):")
    for part in ("heap", "stable"):
        was, now = report[f"{part}_before"], report[f"{part}_after"]
        lines.append(f"  {part:<13} {was:>17,} -> {'-' if now is None else format(now, ',')}")
    error = report.get("error")
    if error is not None:
        lines.append(f"Trap in {error['during']}: {error['message']} [{error['error_code']}]")
    failure = rehearsal.failure()
    lines.append(
        "Result: the upgrade would succeed."
        if failure is None
        else f"Result: the upgrade would fail: {failure}"
    )
    return "\n".join(lines)


def _hash(text: str | None) -> str:
    return "(none)" if text is None else "0x" + text


def module_hash_text(module_hash: bytes | None) -> str | None:
    return None if module_hash is None else "0x" + module_hash.hex()


def status_record(
    name: str, canister_id: Principal, status: management.CanisterStatusResult
) -> dict[str, Any]:
    return {
        "name": name,
        "canister_id": canister_id.to_text(),
        "status": status.status,
        "controllers": [c.to_text() for c in status.settings.controllers],
        "module_hash": module_hash_text(status.module_hash),
        "memory_size": status.memory_size,
        "cycles": status.cycles,
    }


def status_json(records: list[dict[str, Any]] | dict[str, Any]) -> str:
    return json.dumps(records, indent=2)


def status_lines(record: dict[str, Any]) -> list[str]:
    """A status record as `dfx canister status` prints it."""
    return [
        f"Canister status call result for {record['name']}.",
        f"Status: {record['status'].capitalize()}",
        f"Controllers: {' '.join(record['controllers'])}",
        f"Module hash: {record['module_hash'] or 'None'}",
        f"Memory Size: {record['memory_size']} Bytes",
        f"Balance: {record['cycles']:_} Cycles",
    ]


def reply_text(reply: bytes, results: list[candid.Type] | None, output: str) -> str:
    """A call's reply as dfx prints it: ``raw`` hex, ``json`` (idl2json's, one value per
    line: ``"1_000"`` for a nat), or Candid text, ``pp`` (its default: ``(1 : nat)``, laid
    out at 80 columns) or ``idl`` (one line)."""
    if output == "raw":
        return reply.hex()
    if output == "json":
        values, types = candid.decode_with_types(reply, results)
        return format_args_json(values, types)
    return candid.decode_to_text(reply, results, dfx=output)


def rfc3339(nanos: int) -> str:
    """A time as dfx prints log records: RFC 3339 in UTC, the fraction of a second to the
    nanosecond without trailing zeros (none at all on a whole second)."""
    seconds, fraction = divmod(nanos, 1_000_000_000)
    text = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def utc(nanos: int) -> str:
    """A time as dfx lists snapshots: ``2024-05-06 19:17:10 UTC``."""
    moment = datetime.datetime.fromtimestamp(nanos // 1_000_000_000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def human_bytes(size: int) -> str:
    """Binary units as dfx prints snapshot sizes: ``512 B``, ``1.50 MiB``."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    prefixes = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
    step = 0
    while True:
        value /= 1024
        if value < 1024 or step == len(prefixes) - 1:
            return f"{value:.2f} {prefixes[step]}B"
        step += 1


def log_text(content: bytes) -> str:
    """A log record's content as text, or, like dfx, ``(bytes) 0x...`` when it is not
    UTF-8 or holds characters a terminal would not show as they are."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return f"(bytes) 0x{content.hex()}"
    for char in text:
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return f"(bytes) 0x{content.hex()}"
    return text


def log_line(record: management.CanisterLogRecord) -> str:
    """One record as `dfx canister logs` prints it: ``[idx. time]: content``."""
    return f"[{record.idx}. {rfc3339(record.timestamp_nanos)}]: {log_text(record.content)}"


def change_text(change: management.Change) -> str:
    """What one history entry changed, in words."""
    details = change.details
    if isinstance(details, management.Creation):
        controllers = " ".join(c.to_text() for c in details.controllers) or "(none)"
        return f"created with controllers {controllers}"
    if isinstance(details, management.CodeDeployment):
        return f"code deployed ({details.mode}), module hash 0x{details.module_hash.hex()}"
    if isinstance(details, management.ControllersChange):
        return f"controllers changed to {' '.join(c.to_text() for c in details.controllers) or '(none)'}"
    if isinstance(details, management.LoadSnapshot):
        return (
            f"loaded snapshot {details.snapshot_id.hex()} (taken at {rfc3339(details.taken_at_timestamp)}, "
            f"canister version {details.canister_version})"
        )
    assert details == "code_uninstall"
    return "code uninstalled"


def origin_kind(change: management.Change) -> str:
    """``from_user`` or ``from_canister``: the ``change_origin`` case."""
    return "from_user" if isinstance(change.origin, management.FromUser) else "from_canister"


def change_json(change: management.Change) -> dict[str, object]:
    details: dict[str, object] = {"kind": change.kind}
    body = change.details
    if isinstance(body, (management.Creation, management.ControllersChange)):
        details["controllers"] = [c.to_text() for c in body.controllers]
    elif isinstance(body, management.CodeDeployment):
        details["mode"] = body.mode
        details["module_hash"] = module_hash_text(body.module_hash)
    elif isinstance(body, management.LoadSnapshot):
        details["snapshot_id"] = body.snapshot_id.hex()
        details["taken_at_timestamp"] = body.taken_at_timestamp
        details["canister_version"] = body.canister_version
    origin: dict[str, object] = {"kind": origin_kind(change), "principal": change.origin.principal.to_text()}
    if isinstance(change.origin, management.FromCanister):
        origin["canister_version"] = change.origin.canister_version
    return {
        "canister_version": change.canister_version,
        "timestamp_nanos": change.timestamp_nanos,
        "timestamp": rfc3339(change.timestamp_nanos),
        "origin": origin,
        "details": details,
    }


def info_json(name: str, canister_id: Principal, info: management.CanisterInfoResult) -> str:
    record = {
        "name": name,
        "canister_id": canister_id.to_text(),
        "controllers": sorted(c.to_text() for c in info.controllers),
        "module_hash": module_hash_text(info.module_hash),
        "total_num_changes": info.total_num_changes,
        "recent_changes": [change_json(change) for change in info.recent_changes],
    }
    return json.dumps(record, indent=2)


def info_lines(info: management.CanisterInfoResult) -> list[str]:
    """Like `dfx canister info` (controllers, sorted, and module hash), then the history of
    changes, oldest first."""
    controllers = sorted(c.to_text() for c in info.controllers)
    lines = [
        f"Controllers: {' '.join(controllers)}",
        f"Module hash: {module_hash_text(info.module_hash) or 'None'}",
    ]
    shown = len(info.recent_changes)
    if shown == info.total_num_changes:
        lines.append(f"History ({info.total_num_changes} change{'' if shown == 1 else 's'}):")
    else:
        lines.append(f"History (the last {shown} of {info.total_num_changes} changes):")
    for change in info.recent_changes:
        who = "user" if origin_kind(change) == "from_user" else "canister"
        lines.append(
            f"  version {change.canister_version}, {rfc3339(change.timestamp_nanos)}, by {who} {change.origin.principal}: "
            f"{change_text(change)}"
        )
    return lines


def snapshots_json(found: tuple[management.Snapshot, ...]) -> str:
    return json.dumps(
        [
            {"id": s.id.hex(), "taken_at_timestamp": s.taken_at_timestamp, "total_size": s.total_size}
            for s in found
        ],
        indent=2,
    )


def snapshot_lines(name: str, found: tuple[management.Snapshot, ...]) -> list[str]:
    if not found:
        return [f"No snapshots found in canister {name}"]
    return [f"{s.id.hex()}: {human_bytes(s.total_size)}, taken at {utc(s.taken_at_timestamp)}" for s in found]
