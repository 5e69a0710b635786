"""Differential test of vocab.bcs against the TypeScript reference, @mysten/bcs.

Generated (schema, value) pairs go to one Node.js process per batch. There the schema is
built with @mysten/bcs, the value (as JSON) encoded, and our bytes decoded and encoded
again. Their bytes must equal ours, their reading of ours must be the value, and our
bytes must survive their round trip unchanged: so both encoders agree byte for byte and
each reads the other's output.

@mysten/bcs is installed (pinned) into ``.cache/npm-sui`` on first use (``tests.npm``);
the test is skipped only where Node.js itself is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests import npm
from tests.test_bcs import SPEC_EXAMPLES, typed_values
from vocab import bcs

SUI_PACKAGES = {"@mysten/sui": "2.33.1", "@mysten/bcs": "2.1.2"}

pytestmark = npm.requires_node("@mysten/bcs")

SCRIPT = r"""
import { bcs } from '@mysten/bcs';
import { readFileSync } from 'node:fs';

const SMALL = new Set(['u8', 'u16', 'u32']);

function build(d) {
  switch (d.k) {
    case 'u8': case 'u16': case 'u32': case 'u64': case 'u128': case 'u256': case 'bool':
      return bcs[d.k]();
    case 'fixed': return bcs.bytes(d.n);
    case 'bytes': return bcs.byteVector();
    case 'string': return bcs.string();
    case 'vector': return bcs.vector(build(d.t));
    case 'option': return bcs.option(build(d.t));
    case 'tuple': return bcs.tuple(d.f.map(build));
    case 'struct': return bcs.struct('S', Object.fromEntries(d.f.map(([n, t]) => [n, build(t)])));
    case 'enum': return bcs.enum('E', Object.fromEntries(d.f.map(([n, t]) => [n, t === null ? null : build(t)])));
    case 'map': return bcs.map(build(d.key), build(d.value));
  }
  throw new Error('unknown schema ' + JSON.stringify(d));
}

const hexToBytes = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const bytesToHex = (b) => Buffer.from(b).toString('hex');

function toJs(d, v) {
  switch (d.k) {
    case 'u8': case 'u16': case 'u32': return Number(v);
    case 'u64': case 'u128': case 'u256': return BigInt(v);
    case 'bool': case 'string': return v;
    case 'fixed': case 'bytes': return hexToBytes(v);
    case 'vector': return v.map((x) => toJs(d.t, x));
    case 'option': return v === null ? null : toJs(d.t, v);
    case 'tuple': return v.map((x, i) => toJs(d.f[i], x));
    case 'struct': return Object.fromEntries(d.f.map(([n, t]) => [n, toJs(t, v[n])]));
    case 'enum': {
      const [name, payload] = v;
      const t = d.f.find(([n]) => n === name)[1];
      return { [name]: t === null ? true : toJs(t, payload) };
    }
    case 'map': return new Map(v.map(([k, x]) => [toJs(d.key, k), toJs(d.value, x)]));
  }
  throw new Error('unknown schema ' + JSON.stringify(d));
}

function fromJs(d, v) {
  switch (d.k) {
    case 'u8': case 'u16': case 'u32': case 'u64': case 'u128': case 'u256': return String(v);
    case 'bool': case 'string': return v;
    case 'fixed': case 'bytes': return bytesToHex(v);
    case 'vector': return Array.from(v).map((x) => fromJs(d.t, x));
    case 'option': return v === null || v === undefined ? null : fromJs(d.t, v);
    case 'tuple': return v.map((x, i) => fromJs(d.f[i], x));
    case 'struct': return Object.fromEntries(d.f.map(([n, t]) => [n, fromJs(t, v[n])]));
    case 'enum': {
      const name = v.$kind;
      const t = d.f.find(([n]) => n === name)[1];
      if (t === null) return [name, null];
      // @mysten/bcs reads a payload that is null (an Option's None) as `true`.
      if (t.k === 'option' && v[name] === true) return [name, null];
      return [name, fromJs(t, v[name])];
    }
    case 'map': return [...v.entries()].map(([k, x]) => [fromJs(d.key, k), fromJs(d.value, x)]);
  }
  throw new Error('unknown schema ' + JSON.stringify(d));
}

function attempt(f) {
  try { return { ok: f() }; } catch (e) { return { error: String((e && e.message) || e) }; }
}

const cases = JSON.parse(readFileSync(0, 'utf8'));
const out = cases.map((c) => {
  const type = build(c.schema);
  const ours = hexToBytes(c.hex);
  return {
    encoded: attempt(() => bytesToHex(type.serialize(toJs(c.schema, c.value)).toBytes())),
    decoded: attempt(() => fromJs(c.schema, type.parse(ours))),
    // their reading of our bytes, written again by them (through the neutral JSON, which
    // undoes the None-as-true reading above)
    reencoded: attempt(() => bytesToHex(type.serialize(toJs(c.schema, fromJs(c.schema, type.parse(ours)))).toBytes())),
  };
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="session")
def mysten_bcs() -> Path:
    return npm.install("npm-sui", SUI_PACKAGES, {"bcs_differential.mjs": SCRIPT})


def describe(schema: bcs.Schema) -> dict[str, Any]:
    """A schema as the JSON the driver builds @mysten/bcs types from."""
    if isinstance(schema, bcs.UInt):
        return {"k": schema.name}
    if schema is bcs.BOOL:
        return {"k": "bool"}
    if isinstance(schema, bcs.FixedBytes):
        return {"k": "fixed", "n": schema.min_size}
    if schema is bcs.BYTES:
        return {"k": "bytes"}
    if schema is bcs.STRING:
        return {"k": "string"}
    if isinstance(schema, bcs.Vector):
        return {"k": "vector", "t": describe(schema.element)}
    if isinstance(schema, bcs.Option):
        return {"k": "option", "t": describe(schema.inner)}
    if isinstance(schema, bcs.Tuple):
        return {"k": "tuple", "f": [describe(e) for e in schema.elements]}
    if isinstance(schema, bcs.Struct):
        return {"k": "struct", "f": [[n, describe(s)] for n, s in schema.fields]}
    if isinstance(schema, bcs.Enum):
        return {"k": "enum", "f": [[n, None if s is None else describe(s)] for n, s in schema.variants]}
    if isinstance(schema, bcs.Map):
        return {"k": "map", "key": describe(schema.key), "value": describe(schema.value)}
    raise AssertionError(f"no description for {schema!r}")


def as_json(schema: bcs.Schema, value: Any) -> Any:
    """A value as the driver's JSON; map pairs in the canonical (encoded key) order."""
    if isinstance(schema, bcs.UInt):
        return str(value)
    if isinstance(schema, bcs.FixedBytes) or schema is bcs.BYTES:
        return value.hex()
    if isinstance(schema, bcs.Vector):
        return [as_json(schema.element, item) for item in value]
    if isinstance(schema, bcs.Option):
        return None if value is None else as_json(schema.inner, value)
    if isinstance(schema, bcs.Tuple):
        return [as_json(s, item) for s, item in zip(schema.elements, value)]
    if isinstance(schema, bcs.Struct):
        return {n: as_json(s, value[n]) for n, s in schema.fields}
    if isinstance(schema, bcs.Enum):
        payload = dict(schema.variants)[value.name]
        return [value.name, None if payload is None else as_json(payload, value.value)]
    if isinstance(schema, bcs.Map):
        pairs = sorted(value.items(), key=lambda kv: schema.key.encode(kv[0]))
        return [[as_json(schema.key, k), as_json(schema.value, v)] for k, v in pairs]
    return value


def check(directory: Path, cases: list[tuple[bcs.Schema, Any]]) -> None:
    payload = [{"schema": describe(s), "value": as_json(s, v), "hex": s.encode(v).hex()} for s, v in cases]
    replies = npm.run_node(directory, "bcs_differential.mjs", payload)
    for (schema, value), sent, reply in zip(cases, payload, replies):
        shown = f"{value!r} as {schema.name}"
        for key in ("encoded", "decoded", "reencoded"):
            assert "ok" in reply[key], f"@mysten/bcs failed ({key}): {reply[key]} for {shown}"
        assert reply["encoded"]["ok"] == sent["hex"], f"@mysten/bcs encodes differently: {shown}"
        assert reply["decoded"]["ok"] == sent["value"], f"@mysten/bcs reads our bytes differently: {shown}"
        assert reply["reencoded"]["ok"] == sent["hex"], f"@mysten/bcs does not reproduce our bytes: {shown}"
        assert schema.decode(bytes.fromhex(reply["encoded"]["ok"])) == value


def test_specification_examples(mysten_bcs: Path) -> None:
    check(mysten_bcs, [(schema, value) for schema, value, _ in SPEC_EXAMPLES])


@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # shrinking would start Node hundreds of times
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(typed_values(), min_size=40, max_size=40))
def test_generated_values(mysten_bcs: Path, cases: list[tuple[bcs.Schema, Any]]) -> None:
    check(mysten_bcs, cases)
