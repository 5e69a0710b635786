"""The framework packages (0x1 MoveStdlib, 0x2 Sui): their sources follow Sui's API, the
natives they declare are exactly those NATIVES.md specifies, `0x2::package` has the error
codes and policies of reference/sui.md section 1; compiled and run, their functions give
known answers (standard hashes, VECTORS.md object ids, Sui's abort codes)."""

from __future__ import annotations

import hashlib
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from move import codegen, framework, sui_rules
from move.compiler import compile_package
from move.syntax import ast as A
from move.syntax.parser import parse_file
from move.types import U8, U64, ModuleId, StructType, Type, VectorType
from node.sui import MoveAbort, MovePrimitiveRuntimeError, MoveVM, TxContext
from node.sui.vm import CallResult
from vocab.leb128 import encode_leb128

FRAMEWORK = Path(__file__).resolve().parent.parent / "move" / "framework"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sui.md"
PACKAGES = {"move-stdlib": "std", "sui-framework": "sui"}


def modules() -> dict[str, A.ModuleDef]:
    """Every framework module by ``address::name``, parsed from its file."""
    found: dict[str, A.ModuleDef] = {}
    for folder, address in PACKAGES.items():
        for path in sorted((FRAMEWORK / folder / "sources").glob("*.move")):
            file = parse_file(path.read_text(), str(path))
            assert len(file.modules) == 1, path
            module = file.modules[0]
            assert isinstance(module.address, A.Name) and module.address.text == address, path
            assert module.name.text == path.stem, path
            found[f"{address}::{module.name.text}"] = module
    return found


def test_the_framework_has_the_modules_the_issue_names() -> None:
    names = set(modules())
    required = {
        "std::vector",
        "std::option",
        "std::string",
        "std::ascii",
        "std::bcs",
        "std::hash",
        "std::address",
        "std::type_name",
        *(f"std::u{w}" for w in (8, 16, 32, 64, 128, 256)),
        "sui::object",
        "sui::tx_context",
        "sui::transfer",
        "sui::event",
        "sui::address",
        "sui::types",
        "sui::package",
        "sui::hash",
    }
    assert required <= names, required - names


def declared_natives() -> set[str]:
    return {
        f"{name}::{fun.name.text}"
        for name, module in modules().items()
        for fun in module.functions
        if fun.native
    }


def documented_natives() -> set[str]:
    text = (FRAMEWORK / "NATIVES.md").read_text()
    found: set[str] = set()
    section = ""
    for line in text.splitlines():
        if line.startswith("## 0x1"):
            section = "std"
        elif line.startswith("## 0x2"):
            section = "sui"
        elif line.startswith("## "):
            section = ""
        m = re.match(r"\| `(\w+)::(\w+)[<(]", line)
        if section and m:
            found.add(f"{section}::{m.group(1)}::{m.group(2)}")
    return found


def test_natives_md_documents_exactly_the_declared_natives() -> None:
    declared = declared_natives()
    assert len(declared) > 20
    assert documented_natives() == declared


def constants(module: A.ModuleDef) -> dict[str, int]:
    out: dict[str, int] = {}
    for const in module.constants:
        if isinstance(const.value, A.NumLit):
            out[const.name.text] = const.value.value
    return out


def test_package_error_codes_and_policies_are_the_references() -> None:
    reference = REFERENCE.read_text()
    codes_row = next(line for line in reference.splitlines() if line.startswith("| error codes (u64)"))
    expected = {name: int(code) for name, code in re.findall(r"(E\w+) (\d+)", codes_row)}
    policies_row = next(line for line in reference.splitlines() if line.startswith("| policies (u8)"))
    expected |= {name: int(v) for name, v in re.findall(r"([A-Z_]+) = (\d+)", policies_row)}
    assert len(expected) == 10
    assert constants(modules()["sui::package"]) == expected


def struct(module: str, name: str) -> A.StructDef:
    return next(s for s in modules()[module].structs if s.name.text == name)


@pytest.mark.parametrize(
    ("name", "abilities", "fields"),
    [
        ("UpgradeCap", ["key", "store"], ["id", "package", "version", "policy"]),
        ("UpgradeTicket", [], ["cap", "package", "policy", "digest"]),
        ("UpgradeReceipt", [], ["cap", "package"]),
        ("Publisher", ["key", "store"], ["id", "package", "module_name"]),
    ],
)
def test_package_structs_have_suis_abilities_and_fields(
    name: str, abilities: list[str], fields: list[str]
) -> None:
    decl = struct("sui::package", name)
    assert [a.text for a in decl.abilities] == abilities
    assert [f.text for f, _ in decl.fields] == fields


def test_package_functions_are_the_references() -> None:
    functions = {f.name.text: f for f in modules()["sui::package"].functions}
    for name in ("make_immutable", "only_additive_upgrades", "only_dep_upgrades"):
        assert functions[name].visibility == "public" and functions[name].entry, name
    for name in (
        "authorize_upgrade",
        "commit_upgrade",
        "upgrade_package",
        "version",
        "upgrade_policy",
        "ticket_package",
        "ticket_policy",
        "ticket_digest",
        "receipt_cap",
        "receipt_package",
        "claim",
        "claim_and_keep",
        "burn_publisher",
    ):
        assert functions[name].visibility == "public" and not functions[name].entry, name


def test_object_ids_and_tx_context_have_suis_layout() -> None:
    assert [f.text for f, _ in struct("sui::object", "UID").fields] == ["id"]
    assert [a.text for a in struct("sui::object", "UID").abilities] == ["store"]
    assert [a.text for a in struct("sui::object", "ID").abilities] == ["copy", "drop", "store"]
    ctx = struct("sui::tx_context", "TxContext")
    assert [f.text for f, _ in ctx.fields] == [
        "sender",
        "tx_hash",
        "epoch",
        "epoch_timestamp_ms",
        "ids_created",
    ]
    assert [a.text for a in ctx.abilities] == ["drop"]


def test_abort_codes_keep_suis_values() -> None:
    mods = modules()
    assert constants(mods["std::vector"])["EINDEX_OUT_OF_BOUNDS"] == 0x20000
    assert constants(mods["std::option"]) == {"EOPTION_IS_SET": 0x40000, "EOPTION_NOT_SET": 0x40001}
    assert constants(mods["std::string"]) == {"EInvalidUTF8": 1, "EInvalidIndex": 2}
    assert constants(mods["std::ascii"]) == {"EInvalidASCIICharacter": 0x10000, "EInvalidIndex": 0x10001}
    assert constants(mods["sui::transfer"])["ESharedNonNewObject"] == 0
    assert constants(mods["sui::address"])["EAddressParseError"] == 0


# -- the framework compiled and run: known answers from Sui's documented behaviour ---------------

STD_ADDR = bytes(31) + b"\x01"
SUI_ADDR = bytes(31) + b"\x02"
# VECTORS.md: the transaction digest and the first two object ids it creates.
DIGEST = bytes.fromhex("ee57ba0b9c89914c0474c1dc27f84e4ee4e88b2137589c1980cd181694182a3b")
FIRST_ID = bytes.fromhex("ffdd642ddf5a0b44a0c9e5928bf89bc9410650031d6e70e6149360c6c415256b")
SECOND_ID = bytes.fromhex("2b85c0be470d48163c182df36b760d03e63c4fa02812db8b0de9ec0ab9822c53")
SENDER = bytes.fromhex("304af458e90e97c841685b8cbbc59b909f3e2cf150df590ada4c81452c29737d")


@pytest.fixture(scope="module")
def vm() -> MoveVM:
    machine = MoveVM()
    for package in framework.framework():
        machine.add_modules(codegen.compile_package(package).values())
    return machine


def run(
    vm: MoveVM, where: str, *args: bytes, targs: tuple[Type, ...] = (), ids_created: int = 0
) -> CallResult:
    address, module, function = where.split("::")
    mid = ModuleId(STD_ADDR if address == "std" else SUI_ADDR, module)
    ctx = TxContext(sender=SENDER, digest=DIGEST, ids_created=ids_created)
    return vm.call(mid, function, list(args), targs, ctx=ctx, gas_limit=10**8)


def returns(vm: MoveVM, where: str, *args: bytes, targs: tuple[Type, ...] = ()) -> list[bytes]:
    return run(vm, where, *args, targs=targs).returns


def u(value: int, bits: int) -> bytes:
    return value.to_bytes(bits // 8, "little")


def bcs_bytes(data: bytes) -> bytes:
    return encode_leb128(len(data)) + data


def aborts(
    vm: MoveVM, where: str, *args: bytes, module: str, code: int, targs: tuple[Type, ...] = ()
) -> None:
    with pytest.raises(MoveAbort) as info:
        run(vm, where, *args, targs=targs)
    address, name = module.split("::")
    assert (info.value.module, info.value.code) == (
        ModuleId(STD_ADDR if address == "std" else SUI_ADDR, name),
        code,
    )


@pytest.mark.parametrize(
    ("bits", "function", "args", "expected"),
    [
        (64, "sqrt", [2**64 - 1], 2**32 - 1),
        (64, "sqrt", [99], 9),
        (8, "sqrt", [255], 15),
        (128, "sqrt", [2**128 - 1], 2**64 - 1),
        (32, "sqrt", [0], 0),
        (64, "max", [3, 10], 10),
        (64, "min", [3, 10], 3),
        (16, "diff", [3, 10], 7),
        (64, "divide_and_round_up", [7, 2], 4),
        (64, "divide_and_round_up", [8, 2], 4),
        (256, "divide_and_round_up", [2**256 - 1, 2], 2**255),
        (8, "bitwise_not", [0x0F], 0xF0),
        (256, "bitwise_not", [0], 2**256 - 1),
    ],
)
def test_integer_helpers_give_the_known_answers(
    vm: MoveVM, bits: int, function: str, args: list[int], expected: int
) -> None:
    assert returns(vm, f"std::u{bits}::{function}", *(u(a, bits) for a in args)) == [u(expected, bits)]


@pytest.mark.parametrize(("bits", "base", "exponent"), [(64, 2, 63), (8, 3, 5), (256, 2, 255), (128, 10, 38)])
def test_pow_gives_the_power(vm: MoveVM, bits: int, base: int, exponent: int) -> None:
    assert returns(vm, f"std::u{bits}::pow", u(base, bits), u(exponent, 8)) == [u(base**exponent, bits)]


def test_pow_and_round_up_abort_as_move_arithmetic(vm: MoveVM) -> None:
    with pytest.raises(MovePrimitiveRuntimeError):
        run(vm, "std::u64::pow", u(2, 64), u(64, 8))
    with pytest.raises(MovePrimitiveRuntimeError):
        run(vm, "std::u64::divide_and_round_up", u(1, 64), u(0, 64))


def test_to_string_and_try_as(vm: MoveVM) -> None:
    assert returns(vm, "std::u64::to_string", u(1234567890, 64)) == [bcs_bytes(b"1234567890")]
    assert returns(vm, "std::u8::to_string", u(0, 8)) == [bcs_bytes(b"0")]
    assert returns(vm, "std::u256::to_string", u(2**256 - 1, 256)) == [bcs_bytes(str(2**256 - 1).encode())]
    assert returns(vm, "std::u16::try_as_u8", u(255, 16)) == [b"\x01\xff"]
    assert returns(vm, "std::u16::try_as_u8", u(256, 16)) == [b"\x00"]


def test_strings_check_utf8_and_abort_with_suis_codes(vm: MoveVM) -> None:
    text = "héllo wörld".encode()
    assert returns(vm, "std::string::utf8", bcs_bytes(text)) == [bcs_bytes(text)]
    aborts(vm, "std::string::utf8", bcs_bytes(b"\xff"), module="std::string", code=1)
    aborts(vm, "std::string::utf8", bcs_bytes(b"\xed\xa0\x80"), module="std::string", code=1)  # a surrogate
    assert returns(vm, "std::string::try_utf8", bcs_bytes(b"\xc3")) == [b"\x00"]
    assert returns(vm, "std::string::sub_string", bcs_bytes(text), u(0, 64), u(3, 64)) == [
        bcs_bytes("hé".encode())
    ]
    aborts(vm, "std::string::sub_string", bcs_bytes(text), u(0, 64), u(2, 64), module="std::string", code=2)
    assert returns(vm, "std::string::index_of", bcs_bytes(text), bcs_bytes(b"w")) == [u(text.index(b"w"), 64)]
    assert returns(vm, "std::string::index_of", bcs_bytes(text), bcs_bytes(b"z")) == [u(len(text), 64)]
    aborts(vm, "std::ascii::string", bcs_bytes(b"ok\x80"), module="std::ascii", code=0x10000)
    assert returns(vm, "std::ascii::to_uppercase", bcs_bytes(b"Move 2024")) == [bcs_bytes(b"MOVE 2024")]


def test_vectors_and_options_keep_order_and_abort_with_suis_codes(vm: MoveVM) -> None:
    v = bcs_bytes(bytes([1, 2, 3, 4]))
    result = run(vm, "std::vector::remove", v, u(1, 64), targs=(U8,))
    assert result.returns == [b"\x02"] and result.mutated == {0: bcs_bytes(bytes([1, 3, 4]))}
    result = run(vm, "std::vector::insert", v, b"\x09", u(4, 64), targs=(U8,))
    assert result.mutated == {0: bcs_bytes(bytes([1, 2, 3, 4, 9]))}
    assert run(vm, "std::vector::reverse", v, targs=(U8,)).mutated == {0: bcs_bytes(bytes([4, 3, 2, 1]))}
    assert run(vm, "std::vector::swap_remove", v, u(0, 64), targs=(U8,)).mutated == {
        0: bcs_bytes(bytes([4, 2, 3]))
    }
    assert run(vm, "std::vector::append", v, bcs_bytes(b"\x05\x06"), targs=(U8,)).mutated == {
        0: bcs_bytes(bytes([1, 2, 3, 4, 5, 6]))
    }
    assert returns(vm, "std::vector::index_of", v, b"\x03", targs=(U8,)) == [b"\x01", u(2, 64)]
    assert returns(vm, "std::vector::contains", v, b"\x07", targs=(U8,)) == [b"\x00"]
    aborts(vm, "std::vector::remove", v, u(4, 64), targs=(U8,), module="std::vector", code=0x20000)
    aborts(vm, "std::vector::insert", v, b"\x00", u(5, 64), targs=(U8,), module="std::vector", code=0x20000)
    aborts(vm, "std::option::destroy_some", b"\x00", targs=(U64,), module="std::option", code=0x40001)
    aborts(vm, "std::option::fill", b"\x01\x07", b"\x08", targs=(U8,), module="std::option", code=0x40000)
    assert returns(vm, "std::option::get_with_default", b"\x00", b"\x05", targs=(U8,)) == [b"\x05"]


# A user package that reaches the natives and the framework's method aliases the way user code
# does (natives are not called directly by transactions).
PROBE_ADDR = bytes(29) + b"\xc0\xff\xee"
PROBE_SOURCE = """
module probe::probe;

use std::ascii;
use std::hash;
use std::string::String;
use std::type_name;
use std::option::Option;
use sui::event;
use sui::package;

public struct PROBE has drop {}

public struct Thing has key, store {
    id: UID,
    label: String,
}

public struct Made has copy, drop {
    id: ID,
    by: address,
}

public struct Witness has drop {}

fun init(otw: PROBE, ctx: &mut TxContext) {
    assert!(sui::types::is_one_time_witness(&otw), 100);
    package::claim_and_keep(otw, ctx);
}

public fun sha2(d: vector<u8>): vector<u8> { hash::sha2_256(d) }
public fun sha3(d: vector<u8>): vector<u8> { hash::sha3_256(d) }
public fun blake(d: vector<u8>): vector<u8> { sui::hash::blake2b256(&d) }
public fun keccak(d: vector<u8>): vector<u8> { sui::hash::keccak256(&d) }
public fun to_u256(a: address): u256 { sui::address::to_u256(a) }
public fun from_u256(n: u256): address { sui::address::from_u256(n) }
public fun from_bytes(b: vector<u8>): address { sui::address::from_bytes(b) }
public fun digest(ctx: &TxContext): vector<u8> { *ctx.digest() }
public fun type_of<T>(): ascii::String { type_name::into_string(type_name::get<T>()) }
public fun witness_is_otw(): bool { sui::types::is_one_time_witness(&Witness {}) }

public fun make(ctx: &mut TxContext) {
    let thing = Thing { id: object::new(ctx), label: b"first".to_string() };
    event::emit(Made { id: object::id(&thing), by: ctx.sender() });
    transfer::transfer(thing, ctx.sender());
}

public fun make_and_share(ctx: &mut TxContext): address {
    let thing = Thing { id: object::new(ctx), label: b"shared".to_string() };
    let at = thing.id.to_address();
    transfer::share_object(thing);
    at
}

public fun decode(bytes: vector<u8>): (address, bool, u64, vector<u8>, Option<u16>, u256, vector<u8>) {
    let mut r = sui::bcs::new(bytes);
    let a = r.peel_address();
    let b = r.peel_bool();
    let n = r.peel_u64();
    let v = r.peel_vec_u8();
    let o = r.peel_option_u16();
    let big = r.peel_u256();
    (a, b, n, v, o, big, r.into_remainder_bytes())
}

public fun power(base: u64, exponent: u8): u64 { sui::math::pow(base, exponent) }

public fun make_and_freeze(ctx: &mut TxContext) {
    transfer::freeze_object(Thing { id: object::new(ctx), label: b"frozen".to_string() });
}

public fun destroy(thing: Thing) {
    let Thing { id, label: _ } = thing;
    id.delete();
}
"""


@pytest.fixture(scope="module")
def probe(vm: MoveVM) -> ModuleId:
    package = compile_package(
        sources={"probe.move": PROBE_SOURCE},
        named_addresses={"probe": PROBE_ADDR},
        deps=framework.framework(),
    )
    assert sui_rules.check_package(package, framework.framework()) == []
    vm.add_modules(codegen.compile_package(package).values())
    return ModuleId(PROBE_ADDR, "probe")


def probe_call(
    vm: MoveVM, probe: ModuleId, name: str, *args: bytes, targs: tuple[Type, ...] = ()
) -> CallResult:
    ctx = TxContext(sender=SENDER, digest=DIGEST)
    return vm.call(probe, name, list(args), targs, ctx=ctx, gas_limit=10**8, public_only=False)


def test_hashes_are_the_standard_ones(vm: MoveVM, probe: ModuleId) -> None:
    data = b"abc"
    assert probe_call(vm, probe, "sha2", bcs_bytes(data)).returns == [
        bcs_bytes(hashlib.sha256(data).digest())
    ]
    assert probe_call(vm, probe, "sha3", bcs_bytes(data)).returns == [
        bcs_bytes(hashlib.sha3_256(data).digest())
    ]
    blake = hashlib.blake2b(data, digest_size=32).digest()
    assert probe_call(vm, probe, "blake", bcs_bytes(data)).returns == [bcs_bytes(blake)]
    keccak_empty = bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    assert probe_call(vm, probe, "keccak", bcs_bytes(b"")).returns == [bcs_bytes(keccak_empty)]


def test_addresses_convert_as_sui_does(vm: MoveVM, probe: ModuleId) -> None:
    one = bytes(31) + b"\x01"
    assert probe_call(vm, probe, "to_u256", one).returns == [u(1, 256)]
    assert probe_call(vm, probe, "from_u256", u(2**256 - 1, 256)).returns == [b"\xff" * 32]
    assert probe_call(vm, probe, "from_bytes", bcs_bytes(SENDER)).returns == [SENDER]
    with pytest.raises(MoveAbort) as info:
        probe_call(vm, probe, "from_bytes", bcs_bytes(SENDER[:31]))
    assert (info.value.module, info.value.code) == (ModuleId(SUI_ADDR, "address"), 0)
    assert returns(vm, "sui::address::to_string", SENDER) == [bcs_bytes(SENDER.hex().encode())]
    assert returns(vm, "sui::address::from_ascii_bytes", bcs_bytes(SENDER.hex().upper().encode())) == [SENDER]


def test_new_object_ids_are_the_known_answers_and_the_counter_advances(vm: MoveVM, probe: ModuleId) -> None:
    first = run(vm, "sui::object::new")
    assert first.returns == [FIRST_ID]
    assert first.log.created == [FIRST_ID] and first.log.ids_created == 1
    second = run(vm, "sui::object::new", ids_created=1)
    assert second.returns == [SECOND_ID]
    assert returns(vm, "sui::tx_context::sender") == [SENDER]
    assert probe_call(vm, probe, "digest").returns == [bcs_bytes(DIGEST)]


def test_type_names_are_suis_canonical_strings(vm: MoveVM, probe: ModuleId) -> None:
    uid = StructType(ModuleId(SUI_ADDR, "object"), "UID")
    assert probe_call(vm, probe, "type_of", targs=(U64,)).returns == [bcs_bytes(b"u64")]
    expected = SUI_ADDR.hex().encode() + b"::object::UID"
    assert probe_call(vm, probe, "type_of", targs=(uid,)).returns == [bcs_bytes(expected)]
    option = StructType(ModuleId(STD_ADDR, "option"), "Option", (U64,))
    vec_map = StructType(ModuleId(SUI_ADDR, "vec_map"), "VecMap", (U8, VectorType(U8)))
    assert probe_call(vm, probe, "type_of", targs=(option,)).returns == [
        bcs_bytes(STD_ADDR.hex().encode() + b"::option::Option<u64>")
    ]
    assert probe_call(vm, probe, "type_of", targs=(vec_map,)).returns == [
        bcs_bytes(SUI_ADDR.hex().encode() + b"::vec_map::VecMap<u8,vector<u8>>")
    ]
    assert probe_call(vm, probe, "type_of", targs=(VectorType(uid),)).returns == [
        bcs_bytes(b"vector<" + expected + b">")
    ]


def test_init_claims_a_publisher_with_the_one_time_witness(vm: MoveVM, probe: ModuleId) -> None:
    log = probe_call(vm, probe, "init", b"\x00").log
    publisher = StructType(ModuleId(SUI_ADDR, "package"), "Publisher")
    expected = FIRST_ID + bcs_bytes(PROBE_ADDR.hex().encode()) + bcs_bytes(b"probe")
    assert [(e.kind, e.type, e.contents, e.recipient) for e in log.objects] == [
        ("transfer", publisher, expected, SENDER)
    ]
    assert probe_call(vm, probe, "witness_is_otw").returns == [b"\x00"]


def test_objects_are_created_transferred_shared_deleted_and_events_emitted(
    vm: MoveVM, probe: ModuleId
) -> None:
    thing = StructType(probe, "Thing")
    log = probe_call(vm, probe, "make").log
    contents = FIRST_ID + bcs_bytes(b"first")
    assert [(e.kind, e.type, e.contents, e.recipient) for e in log.objects] == [
        ("transfer", thing, contents, SENDER)
    ]
    assert [(e.type, e.contents) for e in log.events] == [(StructType(probe, "Made"), FIRST_ID + SENDER)]
    shared = probe_call(vm, probe, "make_and_share")
    assert shared.returns == [FIRST_ID]
    assert [(e.kind, e.object_id) for e in shared.log.objects] == [("share", FIRST_ID)]
    frozen = probe_call(vm, probe, "make_and_freeze").log
    assert [(e.kind, e.contents) for e in frozen.objects] == [("freeze", FIRST_ID + bcs_bytes(b"frozen"))]
    gone = probe_call(vm, probe, "destroy", SECOND_ID + bcs_bytes(b"old")).log
    assert gone.deleted == [SECOND_ID] and gone.objects == []


# `0x2::package`: reference/sui.md section 1.

CAP_ID = bytes(31) + b"\xca"
PACKAGE = bytes(31) + b"\x77"
NEW_PACKAGE = bytes(31) + b"\x78"


def cap(package: bytes = PACKAGE, version: int = 1, policy: int = 0) -> bytes:
    return CAP_ID + package + u(version, 64) + u(policy, 8)


def test_authorize_upgrade_issues_a_ticket_and_marks_the_cap_busy(vm: MoveVM) -> None:
    result = run(vm, "sui::package::authorize_upgrade", cap(), u(128, 8), bcs_bytes(b"\x11" * 32))
    assert result.returns == [CAP_ID + PACKAGE + u(128, 8) + bcs_bytes(b"\x11" * 32)]
    assert result.mutated == {0: cap(package=bytes(32))}


def test_authorize_upgrade_refuses_a_second_ticket_and_a_looser_policy(vm: MoveVM) -> None:
    aborts(
        vm,
        "sui::package::authorize_upgrade",
        cap(package=bytes(32)),
        u(0, 8),
        bcs_bytes(b""),
        module="sui::package",
        code=2,
    )
    aborts(
        vm,
        "sui::package::authorize_upgrade",
        cap(policy=128),
        u(0, 8),
        bcs_bytes(b""),
        module="sui::package",
        code=1,
    )


def test_commit_upgrade_checks_the_cap_and_counts_the_version(vm: MoveVM) -> None:
    receipt = CAP_ID + NEW_PACKAGE
    result = run(vm, "sui::package::commit_upgrade", cap(package=bytes(32)), receipt)
    assert result.mutated == {0: cap(package=NEW_PACKAGE, version=2)}
    other = bytes(31) + b"\xcb" + NEW_PACKAGE
    aborts(vm, "sui::package::commit_upgrade", cap(package=bytes(32)), other, module="sui::package", code=4)
    aborts(vm, "sui::package::commit_upgrade", cap(), receipt, module="sui::package", code=3)


def test_policies_only_tighten_and_make_immutable_deletes_the_cap(vm: MoveVM) -> None:
    assert run(vm, "sui::package::only_additive_upgrades", cap()).mutated == {0: cap(policy=128)}
    assert run(vm, "sui::package::only_dep_upgrades", cap(policy=128)).mutated == {0: cap(policy=192)}
    aborts(vm, "sui::package::only_additive_upgrades", cap(policy=192), module="sui::package", code=1)
    assert run(vm, "sui::package::make_immutable", cap()).log.deleted == [CAP_ID]
    assert [returns(vm, f"sui::package::{p}_policy") for p in ("compatible", "additive", "dep_only")] == [
        [b"\x00"],
        [b"\x80"],
        [b"\xc0"],
    ]


def test_public_transfer_records_the_object_for_the_executor(vm: MoveVM) -> None:
    upgrade_cap = StructType(ModuleId(SUI_ADDR, "package"), "UpgradeCap")
    log = run(vm, "sui::transfer::public_transfer", cap(), SENDER, targs=(upgrade_cap,)).log
    assert [(e.kind, e.type, e.contents, e.recipient) for e in log.objects] == [
        ("transfer", upgrade_cap, cap(), SENDER)
    ]


def test_the_framework_keeps_the_sui_rules() -> None:
    std, sui = framework.framework()
    assert sui_rules.check_package(std, []) == []
    assert sui_rules.check_package(sui, [std]) == []


def test_the_framework_compiles_deterministically_to_0x1_and_0x2() -> None:
    std, sui = framework.framework()
    assert {m.id.address for m in std.modules} == {STD_ADDR}
    assert {m.id.address for m in sui.modules} == {SUI_ADDR}
    assert framework.stdlib() is std
    again = framework.stdlib.__wrapped__()
    assert [codegen.compile_module(m) for m in again.modules] == [
        codegen.compile_module(m) for m in std.modules
    ]
    natives = {str(f) for f in framework.native_functions()}
    assert natives == {
        n.replace("std::", "0x1::", 1).replace("sui::", "0x2::", 1) for n in declared_natives()
    }


def test_the_clock_reads_its_time_and_only_the_system_creates_it(vm: MoveVM) -> None:
    clock_id = bytes(31) + b"\x06"
    assert returns(vm, "sui::clock::timestamp_ms", clock_id + u(1_700_000_000_000, 64)) == [
        u(1_700_000_000_000, 64)
    ]
    mid = ModuleId(SUI_ADDR, "clock")
    with pytest.raises(MoveAbort) as info:
        vm.call(
            mid, "create", [], ctx=TxContext(sender=SENDER, digest=DIGEST), gas_limit=10**8, public_only=False
        )
    assert (info.value.module, info.value.code) == (mid, 0)


def test_genesis_creates_and_shares_the_clock_at_0x6(vm: MoveVM) -> None:
    clock_id = bytes(31) + b"\x06"
    mid = ModuleId(SUI_ADDR, "clock")
    system = TxContext(sender=bytes(32), digest=DIGEST)
    log = vm.call(mid, "create", [], ctx=system, gas_limit=10**8, public_only=False).log
    clock = StructType(mid, "Clock")
    assert [(e.kind, e.type, e.contents) for e in log.objects] == [("share", clock, clock_id + u(0, 64))]


def vec_map_u8(*pairs: tuple[int, int]) -> bytes:
    return encode_leb128(len(pairs)) + b"".join(bytes([k, v]) for k, v in pairs)


def test_vec_map_keeps_insertion_order_and_suis_abort_codes(vm: MoveVM) -> None:
    kv = (U8, U8)
    m = vec_map_u8((3, 30), (1, 10))
    assert run(vm, "sui::vec_map::insert", m, b"\x02", b"\x14", targs=kv).mutated == {
        0: vec_map_u8((3, 30), (1, 10), (2, 20))
    }
    aborts(vm, "sui::vec_map::insert", m, b"\x01", b"\x00", targs=kv, module="sui::vec_map", code=0)
    removed = run(vm, "sui::vec_map::remove", m, b"\x03", targs=kv)
    assert removed.returns == [b"\x03", b"\x1e"] and removed.mutated == {0: vec_map_u8((1, 10))}
    aborts(vm, "sui::vec_map::remove", m, b"\x09", targs=kv, module="sui::vec_map", code=1)
    assert returns(vm, "sui::vec_map::try_get", m, b"\x01", targs=kv) == [b"\x01\x0a"]
    assert returns(vm, "sui::vec_map::keys", m, targs=kv) == [bcs_bytes(b"\x03\x01")]
    assert returns(vm, "sui::vec_map::into_keys_values", m, targs=kv) == [
        bcs_bytes(b"\x03\x01"),
        bcs_bytes(b"\x1e\x0a"),
    ]
    built = returns(
        vm, "sui::vec_map::from_keys_values", bcs_bytes(b"\x05\x06"), bcs_bytes(b"\x50\x60"), targs=kv
    )
    assert built == [vec_map_u8((5, 0x50), (6, 0x60))]
    aborts(
        vm,
        "sui::vec_map::from_keys_values",
        bcs_bytes(b"\x05"),
        bcs_bytes(b""),
        targs=kv,
        module="sui::vec_map",
        code=5,
    )
    aborts(vm, "sui::vec_map::destroy_empty", m, targs=kv, module="sui::vec_map", code=2)
    aborts(vm, "sui::vec_map::pop", vec_map_u8(), targs=kv, module="sui::vec_map", code=4)
    aborts(vm, "sui::vec_map::remove_entry_by_idx", m, u(2, 64), targs=kv, module="sui::vec_map", code=3)


def test_vec_set_refuses_duplicates_and_missing_keys(vm: MoveVM) -> None:
    s = bcs_bytes(b"\x07\x02")
    assert run(vm, "sui::vec_set::insert", s, b"\x09", targs=(U8,)).mutated == {0: bcs_bytes(b"\x07\x02\x09")}
    aborts(vm, "sui::vec_set::insert", s, b"\x02", targs=(U8,), module="sui::vec_set", code=0)
    assert run(vm, "sui::vec_set::remove", s, b"\x07", targs=(U8,)).mutated == {0: bcs_bytes(b"\x02")}
    aborts(vm, "sui::vec_set::remove", s, b"\x05", targs=(U8,), module="sui::vec_set", code=1)
    assert returns(vm, "sui::vec_set::contains", s, b"\x02", targs=(U8,)) == [b"\x01"]
    aborts(vm, "sui::vec_set::from_keys", bcs_bytes(b"\x01\x01"), targs=(U8,), module="sui::vec_set", code=0)


def test_the_bcs_reader_decodes_what_the_bcs_rules_encode(vm: MoveVM, probe: ModuleId) -> None:
    long = bytes(range(200))  # a length of 200 takes two ULEB128 bytes: c8 01
    encoded = (
        SENDER + b"\x01" + u(2**64 - 2, 64) + b"\xc8\x01" + long + b"\x01" + u(513, 16) + u(2**255 + 7, 256)
    )
    result = probe_call(vm, probe, "decode", bcs_bytes(encoded + b"rest")).returns
    assert result == [
        SENDER,
        b"\x01",
        u(2**64 - 2, 64),
        bcs_bytes(long),
        b"\x01" + u(513, 16),
        u(2**255 + 7, 256),
        bcs_bytes(b"rest"),
    ]
    bad_bool = SENDER + b"\x02"
    with pytest.raises(MoveAbort) as info:
        probe_call(vm, probe, "decode", bcs_bytes(bad_bool))
    assert (info.value.module, info.value.code) == (ModuleId(SUI_ADDR, "bcs"), 1)
    with pytest.raises(MoveAbort) as info:
        probe_call(vm, probe, "decode", bcs_bytes(SENDER[:20]))
    assert (info.value.module, info.value.code) == (ModuleId(SUI_ADDR, "bcs"), 0)
    assert probe_call(vm, probe, "power", u(2, 64), u(10, 8)).returns == [u(1024, 64)]


def test_bcs_to_bytes_encodes_addresses_and_ids_as_32_bytes(vm: MoveVM) -> None:
    assert returns(vm, "sui::address::to_bytes", SENDER) == [bcs_bytes(SENDER)]
    assert returns(vm, "sui::object::id_to_bytes", FIRST_ID) == [bcs_bytes(FIRST_ID)]
    assert returns(vm, "sui::object::id_from_bytes", bcs_bytes(FIRST_ID)) == [FIRST_ID]


FRAMEWORK_DIGEST = """
import hashlib
from move import codegen, framework
h = hashlib.sha256()
for package in framework.framework():
    for mid, wasm in sorted(codegen.compile_package(package).items()):
        h.update(str(mid).encode() + hashlib.sha256(wasm).digest())
print(h.hexdigest())
"""


def test_every_replica_builds_the_same_framework_whatever_its_hash_seed() -> None:
    """Replicas publish the framework at genesis from source: its Wasm must not depend on the
    process (set and dict orders under different hash seeds)."""
    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", FRAMEWORK_DIGEST], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1 and len(next(iter(digests))) == 64


@pytest.mark.parametrize("bits", [8, 16, 32, 64, 128, 256])
def test_integer_helpers_agree_with_exact_arithmetic_on_seeded_values(vm: MoveVM, bits: int) -> None:
    rng = random.Random(bits)  # seeded: the same values every run
    top = 2**bits - 1
    values = [0, 1, 2, 3, top, top - 1, 2 ** (bits - 1), *(rng.randrange(top + 1) for _ in range(12))]
    for x in values:
        y = rng.randrange(1, top + 1)
        if bits < 256:
            assert returns(vm, f"std::u{bits}::sqrt", u(x, bits)) == [u(math.isqrt(x), bits)], x
        assert returns(vm, f"std::u{bits}::to_string", u(x, bits)) == [bcs_bytes(str(x).encode())], x
        assert returns(vm, f"std::u{bits}::diff", u(x, bits), u(y, bits)) == [u(abs(x - y), bits)], (x, y)
        assert returns(vm, f"std::u{bits}::divide_and_round_up", u(x, bits), u(y, bits)) == [
            u(-(-x // y), bits)
        ]
        assert returns(vm, f"std::u{bits}::bitwise_not", u(x, bits)) == [u(top ^ x, bits)], x


@pytest.mark.parametrize("bits", [8, 64, 256])
def test_pow_aborts_exactly_when_the_power_does_not_fit(vm: MoveVM, bits: int) -> None:
    rng = random.Random(1000 + bits)
    for _ in range(12):
        base, exponent = rng.choice([0, 1, 2, 3, 7, 10, 255, 2**15]), rng.randrange(0, 40)
        base %= 2**bits
        if base**exponent < 2**bits:
            assert returns(vm, f"std::u{bits}::pow", u(base, bits), u(exponent, 8)) == [
                u(base**exponent, bits)
            ]
        else:
            with pytest.raises(MovePrimitiveRuntimeError):
                run(vm, f"std::u{bits}::pow", u(base, bits), u(exponent, 8))


def test_string_ascii_option_hex_and_vector_helpers(vm: MoveVM) -> None:
    s = bcs_bytes("añb".encode())
    assert run(vm, "std::string::insert", s, u(3, 64), bcs_bytes(b"XY")).mutated == {
        0: bcs_bytes("añXYb".encode())
    }
    aborts(vm, "std::string::insert", s, u(2, 64), bcs_bytes(b"X"), module="std::string", code=2)  # inside ñ
    assert run(vm, "std::string::append_utf8", s, bcs_bytes(b"!")).mutated == {0: bcs_bytes("añb!".encode())}
    aborts(vm, "std::string::append_utf8", s, bcs_bytes(b"\xc0"), module="std::string", code=1)
    a = bcs_bytes(b"hello")
    assert run(vm, "std::ascii::insert", a, u(0, 64), bcs_bytes(b">>")).mutated == {0: bcs_bytes(b">>hello")}
    aborts(vm, "std::ascii::insert", a, u(6, 64), bcs_bytes(b"x"), module="std::ascii", code=0x10001)
    assert returns(vm, "std::ascii::substring", a, u(1, 64), u(4, 64)) == [bcs_bytes(b"ell")]
    aborts(vm, "std::ascii::substring", a, u(4, 64), u(1, 64), module="std::ascii", code=0x10001)
    assert returns(vm, "std::ascii::index_of", a, bcs_bytes(b"llo")) == [u(2, 64)]
    assert returns(vm, "std::ascii::all_characters_printable", bcs_bytes(b"a\nb")) == [b"\x00"]
    popped = run(vm, "std::ascii::pop_char", a)
    assert popped.returns == [b"o"] and popped.mutated == {0: bcs_bytes(b"hell")}
    aborts(vm, "std::ascii::char", b"\x80", module="std::ascii", code=0x10000)
    assert run(vm, "std::option::swap", b"\x01\x05", b"\x06", targs=(U8,)).returns == [b"\x05"]
    aborts(vm, "std::option::swap", b"\x00", b"\x06", targs=(U8,), module="std::option", code=0x40001)
    filled = run(vm, "std::option::swap_or_fill", b"\x00", b"\x06", targs=(U8,))
    assert filled.returns == [b"\x00"] and filled.mutated == {0: b"\x01\x06"}
    assert returns(vm, "std::option::destroy_with_default", b"\x00", b"\x09", targs=(U8,)) == [b"\x09"]
    assert returns(vm, "std::option::to_vec", b"\x01\x07", targs=(U8,)) == [bcs_bytes(b"\x07")]
    assert returns(vm, "sui::hex::encode", bcs_bytes(b"\x00\xab\xff")) == [bcs_bytes(b"00abff")]
    assert returns(vm, "sui::hex::decode", bcs_bytes(b"00ABff")) == [bcs_bytes(b"\x00\xab\xff")]
    aborts(vm, "sui::hex::decode", bcs_bytes(b"abc"), module="sui::hex", code=0)
    aborts(vm, "sui::hex::decode", bcs_bytes(b"zz"), module="sui::hex", code=1)
    nested = encode_leb128(2) + bcs_bytes(b"\x01\x02") + bcs_bytes(b"\x03")
    assert returns(vm, "std::vector::flatten", nested, targs=(U8,)) == [bcs_bytes(b"\x01\x02\x03")]
    assert returns(vm, "std::vector::singleton", u(7, 64), targs=(U64,)) == [encode_leb128(1) + u(7, 64)]
