"""Candid encode and decode throughput, and evidence that cost grows linearly with size.

Three workloads, each at three sizes that double: a blob (``vec nat8``, up to 1 MiB), a
vector of records (up to 10,000), and a deeply nested ``opt`` (``type T = opt T``, up to
the decoder's nesting limit). For each size the table gives the best time of several
runs and the throughput; the growth column divides the time's growth by the size's
growth, so 1.00 means exactly linear and 2.00 would mean quadratic.

    python -m bench candid [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections.abc import Callable
from typing import Any

from vocab.candid import (
    BLOB,
    BOOL,
    NAT,
    NAT64,
    TEXT,
    OptType,
    Some,
    Type,
    VarType,
    VecType,
    decode,
    encode,
    record,
)
from vocab.candid.limits import MAX_DEPTH


def _best(function: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _blob(size: int) -> tuple[list[Any], list[Type]]:
    return [bytes(range(256)) * (size // 256)], [BLOB]


ACCOUNT = record(
    dict[str | int, Type]({"id": NAT64, "owner": TEXT, "balance": NAT, "active": BOOL, "memo": OptType(TEXT)})
)


def _records(count: int) -> tuple[list[Any], list[Type]]:
    rows = [
        {
            "id": index,
            "owner": f"user-{index:06d}",
            "balance": index * 1_000_003,
            "active": index % 3 == 0,
            "memo": Some("hello") if index % 2 else None,
        }
        for index in range(count)
    ]
    return [rows], [VecType(ACCOUNT)]


def _nested(depth: int) -> tuple[list[Any], list[Type]]:
    nested = VarType("T")
    nested.target = OptType(nested)
    value: Any = None
    for _ in range(depth):
        value = Some(value)
    return [value], [nested]


WORKLOADS: list[tuple[str, str, Callable[[int], tuple[list[Any], list[Type]]], list[int]]] = [
    ("blob", "bytes", _blob, [256 * 1024, 512 * 1024, 1024 * 1024]),
    ("vec record", "records", _records, [2_500, 5_000, 10_000]),
    ("nested opt", "levels", _nested, [MAX_DEPTH // 4, MAX_DEPTH // 2, MAX_DEPTH]),
]


def measure(repeat: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, unit, build, sizes in WORKLOADS:
        previous: dict[str, Any] | None = None
        for size in sizes:
            values, types = build(size)
            blob = encode(values, types)
            assert decode(blob, types) == values
            encode_s = _best(functools.partial(encode, values, types), repeat)
            decode_s = _best(functools.partial(decode, blob, types), repeat)
            row = {
                "workload": name,
                "size": size,
                "unit": unit,
                "bytes": len(blob),
                "encode_s": encode_s,
                "decode_s": decode_s,
                "encode_mb_s": len(blob) / encode_s / 1e6,
                "decode_mb_s": len(blob) / decode_s / 1e6,
                "encode_growth": None,
                "decode_growth": None,
            }
            if previous is not None:
                grew = size / previous["size"]
                row["encode_growth"] = encode_s / previous["encode_s"] / grew
                row["decode_growth"] = decode_s / previous["decode_s"] / grew
            rows.append(row)
            previous = row
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    header = (
        f"{'workload':<11} {'size':>16} {'message':>10} {'encode':>10} {'MB/s':>8} "
        f"{'growth':>7} {'decode':>10} {'MB/s':>8} {'growth':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:

        def growth(key: str, row: dict[str, Any] = row) -> str:
            value = row[key]
            return "" if value is None else f"{value:.2f}"

        lines.append(
            f"{row['workload']:<11} {row['size']:>9,} {row['unit']:<6} {row['bytes']:>10,} "
            f"{row['encode_s'] * 1e3:>8.2f}ms {row['encode_mb_s']:>8.1f} {growth('encode_growth'):>7} "
            f"{row['decode_s'] * 1e3:>8.2f}ms {row['decode_mb_s']:>8.1f} {growth('decode_growth'):>7}"
        )
    lines.append("")
    lines.append("growth: time growth divided by size growth from the row above (1.00 = linear)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench candid", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best is kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    rows = measure(max(1, args.repeat))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
