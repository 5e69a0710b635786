"""Differential test against the reference JavaScript implementation, @dfinity/candid.

Generated (type, value) pairs go to one Node.js process per batch. There, our bytes are
decoded (and must give the values we encoded, compared as JSON) and encoded again, and
the same values (sent as JSON) are encoded afresh; back here both of their messages must
decode to the original values. So our messages read correctly there, and theirs here.

The package is installed (pinned) into ``.cache/npm-candid`` on first use (``tests.npm``);
the test is skipped only where Node.js itself is missing.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import npm
from tests.test_candid_roundtrip import typed_args
from vocab.candid import (
    BOOL,
    FLOAT32,
    FLOAT64,
    INT,
    NAT,
    NAT8,
    NULL,
    PRINCIPAL,
    TEXT,
    FuncType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Some,
    Type,
    Variant,
    VariantType,
    VarType,
    VecType,
    decode,
    encode,
    record,
    variant,
)
from vocab.candid.testsuite import values_equal
from vocab.principal import Principal

CANDID_VERSION = "3.4.3"

pytestmark = npm.requires_node("@dfinity/candid")

SCRIPT = r"""
const { IDL } = require('@dfinity/candid');
const { Principal } = require('@dfinity/principal');

const PRIMS = {
  null: IDL.Null, bool: IDL.Bool, nat: IDL.Nat, int: IDL.Int, nat8: IDL.Nat8,
  nat16: IDL.Nat16, nat32: IDL.Nat32, nat64: IDL.Nat64, int8: IDL.Int8, int16: IDL.Int16,
  int32: IDL.Int32, int64: IDL.Int64, float32: IDL.Float32, float64: IDL.Float64,
  text: IDL.Text, reserved: IDL.Reserved, empty: IDL.Empty, principal: IDL.Principal,
};
const BIG = new Set(['nat', 'int', 'nat64', 'int64']);

function label(l) { return typeof l === 'number' ? `_${l}_` : l; }

function build(desc, recs, defs) {
  switch (desc.k) {
    case 'prim': return PRIMS[desc.n];
    case 'opt': return IDL.Opt(build(desc.t, recs, defs));
    case 'vec': return IDL.Vec(build(desc.t, recs, defs));
    case 'tuple': return IDL.Tuple(...desc.f.map(t => build(t, recs, defs)));
    case 'record': return IDL.Record(Object.fromEntries(desc.f.map(([l, t]) => [label(l), build(t, recs, defs)])));
    case 'variant': return IDL.Variant(Object.fromEntries(desc.f.map(([l, t]) => [label(l), build(t, recs, defs)])));
    case 'func': return IDL.Func(desc.a.map(t => build(t, recs, defs)), desc.r.map(t => build(t, recs, defs)), desc.m);
    case 'service': return IDL.Service(Object.fromEntries(desc.m.map(([n, t]) => [n, build(t, recs, defs)])));
    case 'rec': {
      const r = IDL.Rec();
      recs[desc.id] = r;
      defs[desc.id] = desc.t;
      r.fill(build(desc.t, recs, defs));
      return r;
    }
    case 'ref': return recs[desc.id];
  }
  throw new Error('unknown type ' + JSON.stringify(desc));
}

function toJs(desc, v, defs) {
  switch (desc.k) {
    case 'prim':
      if (BIG.has(desc.n)) return BigInt(v);
      if (desc.n === 'principal') return Principal.fromText(v);
      if (desc.n === 'null' || desc.n === 'reserved') return null;
      if (desc.n.startsWith('float')) return typeof v === 'string' ? Number(v) : v;
      if (desc.n.startsWith('nat') || desc.n.startsWith('int')) return Number(v);
      return v;
    case 'opt': return v.length ? [toJs(desc.t, v[0], defs)] : [];
    case 'vec':
      if (desc.t.k === 'prim' && desc.t.n === 'nat8') return Uint8Array.from(Buffer.from(v, 'hex'));
      return v.map(x => toJs(desc.t, x, defs));
    case 'tuple': return desc.f.map((t, i) => toJs(t, v[i], defs));
    case 'record': return Object.fromEntries(desc.f.map(([l, t]) => [label(l), toJs(t, v[label(l)], defs)]));
    case 'variant': {
      const [key] = Object.keys(v);
      const [, t] = desc.f.find(([l]) => label(l) === key);
      return { [key]: toJs(t, v[key], defs) };
    }
    case 'func': return [Principal.fromText(v[0]), v[1]];
    case 'service': return Principal.fromText(v);
    case 'rec': defs[desc.id] = desc.t; return toJs(desc.t, v, defs);
    case 'ref': return toJs(defs[desc.id], v, defs);
  }
  throw new Error('unknown type ' + JSON.stringify(desc));
}

function fromJs(desc, v, defs) {
  switch (desc.k) {
    case 'prim':
      if (desc.n === 'null' || desc.n === 'reserved') return null;
      if (desc.n === 'principal') return v.toText();
      if (desc.n.startsWith('float')) {
        if (Number.isNaN(v)) return 'NaN';
        const b = Buffer.alloc(8); b.writeDoubleLE(v); return b.toString('hex');
      }
      if (desc.n.startsWith('nat') || desc.n.startsWith('int')) return String(v);
      return v;
    case 'opt': return v.length ? [fromJs(desc.t, v[0], defs)] : [];
    case 'vec':
      if (desc.t.k === 'prim' && desc.t.n === 'nat8') return Buffer.from(v).toString('hex');
      return Array.from(v).map(x => fromJs(desc.t, x, defs));
    case 'tuple': return desc.f.map((t, i) => fromJs(t, v[i], defs));
    case 'record': return Object.fromEntries(desc.f.map(([l, t]) => [label(l), fromJs(t, v[label(l)], defs)]));
    case 'variant': {
      const [key] = Object.keys(v);
      const [, t] = desc.f.find(([l]) => label(l) === key);
      return { [key]: fromJs(t, v[key], defs) };
    }
    case 'func': return [v[0].toText(), v[1]];
    case 'service': return v.toText();
    case 'rec': defs[desc.id] = desc.t; return fromJs(desc.t, v, defs);
    case 'ref': return fromJs(defs[desc.id], v, defs);
  }
  throw new Error('unknown type ' + JSON.stringify(desc));
}

function hex(bytes) { return Buffer.from(bytes).toString('hex'); }

function attempt(f) {
  try { return { ok: f() }; } catch (e) { return { error: String(e && e.message || e) }; }
}

const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = cases.map(c => {
  const recs = {}, defs = {};
  const types = c.types.map(t => build(t, recs, defs));
  const ours = Uint8Array.from(Buffer.from(c.hex, 'hex'));
  return {
    decoded: attempt(() => IDL.decode(types, ours).map((v, i) => fromJs(c.types[i], v, defs))),
    reencoded: attempt(() => hex(IDL.encode(types, IDL.decode(types, ours)))),
    encoded: attempt(() => hex(IDL.encode(types, c.types.map((t, i) => toJs(t, c.values[i], defs))))),
  };
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="session")
def candid_js() -> Path:
    """The directory holding the pinned @dfinity/candid and the driver script."""
    return npm.install(
        "npm-candid",
        {"@dfinity/candid": CANDID_VERSION, "@dfinity/principal": CANDID_VERSION},
        {"differential.js": SCRIPT},
    )


# -- Python values and types as the JSON the driver reads ---------------------------------


class _Describer:
    def __init__(self) -> None:
        self.ids: dict[int, int] = {}

    def type(self, t: Type) -> dict[str, Any]:
        if isinstance(t, VarType):
            if id(t) in self.ids:
                return {"k": "ref", "id": self.ids[id(t)]}
            self.ids[id(t)] = len(self.ids)
            return {"k": "rec", "id": self.ids[id(t)], "t": self.type(t.target)}  # type: ignore[arg-type]
        if isinstance(t, PrimType):
            return {"k": "prim", "n": t.name}
        if isinstance(t, OptType):
            return {"k": "opt", "t": self.type(t.inner)}
        if isinstance(t, VecType):
            return {"k": "vec", "t": self.type(t.inner)}
        if isinstance(t, RecordType):
            if t.is_tuple and t.fields:
                return {"k": "tuple", "f": [self.type(f.type) for f in t.fields]}
            return {"k": "record", "f": [[f.key, self.type(f.type)] for f in t.fields]}
        if isinstance(t, VariantType):
            return {"k": "variant", "f": [[f.key, self.type(f.type)] for f in t.fields]}
        if isinstance(t, FuncType):
            return {
                "k": "func",
                "a": [self.type(a) for a in t.args],
                "r": [self.type(r) for r in t.results],
                "m": list(t.modes),
            }
        if isinstance(t, ServiceType):
            return {"k": "service", "m": [[name, self.type(m)] for name, m in t.methods]}
        raise AssertionError(t)


def _label(key: str | int) -> str:
    return f"_{key}_" if isinstance(key, int) else key


def _value(v: Any, t: Type, exact: bool = False) -> Any:
    """A value as the driver's JSON; ``exact`` writes floats as their bits, for comparing."""
    while isinstance(t, VarType):
        t = t.target  # type: ignore[assignment]
    if isinstance(t, PrimType):
        if t.name in ("null", "reserved"):
            return None
        if t.name.startswith("float"):
            if math.isnan(v):
                return "NaN"
            if exact:
                return struct.pack("<d", v).hex()
            if math.isinf(v):
                return "Infinity" if v > 0 else "-Infinity"
            return v
        if isinstance(v, Principal):
            return v.to_text()
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        return v
    if isinstance(t, OptType):
        return [] if v is None else [_value(v.value, t.inner, exact)]
    if isinstance(t, VecType):
        if isinstance(v, bytes):
            return v.hex()
        return [_value(item, t.inner, exact) for item in v]
    if isinstance(t, RecordType):
        if t.is_tuple and t.fields:
            return [_value(v[f.key], f.type, exact) for f in t.fields]
        return {_label(f.key): _value(v[f.key], f.type, exact) for f in t.fields}
    if isinstance(t, VariantType):
        case = t.field(v.tag)
        assert case is not None
        return {_label(case.key): _value(v.value, case.type, exact)}
    if isinstance(t, FuncType):
        return [v.service.to_text(), v.method]
    if isinstance(t, ServiceType):
        return v.to_text()
    raise AssertionError(t)


def _run(directory: Path, cases: list[tuple[list[Any], list[Type]]]) -> list[dict[str, Any]]:
    payload = []
    for values, types in cases:
        describer = _Describer()
        payload.append(
            {
                "types": [describer.type(t) for t in types],
                "hex": encode(values, types).hex(),
                "values": [_value(v, t) for v, t in zip(values, types)],
            }
        )
    return npm.run_node(directory, "differential.js", payload)


def _check(cases: list[tuple[list[Any], list[Type]]], replies: list[dict[str, Any]]) -> None:
    for (values, types), reply in zip(cases, replies):
        shown = f"values {values!r} at types {[str(t) for t in types]}"
        assert "ok" in reply["decoded"], f"@dfinity/candid cannot read ours: {reply['decoded']} for {shown}"
        expected = [_value(v, t, exact=True) for v, t in zip(values, types)]
        assert reply["decoded"]["ok"] == expected, f"@dfinity/candid reads ours differently for {shown}"
        assert "ok" in reply["reencoded"], (
            f"@dfinity/candid cannot re-encode: {reply['reencoded']} for {shown}"
        )
        assert "ok" in reply["encoded"], f"@dfinity/candid cannot encode: {reply['encoded']} for {shown}"
        for key in ("reencoded", "encoded"):
            theirs = bytes.fromhex(reply[key]["ok"])
            assert values_equal(decode(theirs, types), values), f"{key} differs for {shown}"


FIXED: list[tuple[list[Any], list[Type]]] = [
    ([], []),
    ([2**100, -(2**70), 0], [NAT, INT, NAT]),
    (["☃ Motoko\x00", b"\x00\xff"], [TEXT, VecType(NAT8)]),
    ([Some(None), None, Some(Some(5))], [OptType(NULL), OptType(NAT), OptType(OptType(NAT8))]),
    ([{"a": 1, 5: True}], [record({"a": NAT, 5: BOOL})]),
    ([Variant("ok", "fine")], [variant({"ok": TEXT, "err": TEXT})]),
    ([Principal.from_text("aaaaa-aa"), Principal(b"\x01" * 29)], [PRINCIPAL, PRINCIPAL]),
    ([1.5, -0.0, math.inf, math.nan], [FLOAT32, FLOAT64, FLOAT64, FLOAT32]),
]


def test_fixed_cases(candid_js: Path) -> None:
    _check(FIXED, _run(candid_js, FIXED))


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(typed_args(), min_size=30, max_size=30))
def test_generated_values(candid_js: Path, cases: list[tuple[list[Any], list[Type]]]) -> None:
    _check(cases, _run(candid_js, cases))
