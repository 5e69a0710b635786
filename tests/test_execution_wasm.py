"""The Wasm binary reader/editor, the IC's module rules and the engine's configuration."""

from __future__ import annotations

import gzip

import pytest
import wasmtime
from hypothesis import given
from hypothesis import strategies as st

from node.ic import CanisterRuntime, InvalidModule
from node.ic.module_rules import canister_module_rules
from node.wasm import (
    HostFunction,
    HostImports,
    ModuleRejected,
    OutOfFuel,
    Trapped,
    WasmEngine,
    WasmInstance,
    default_engine,
    deterministic_config,
)
from node.wasm.instrument import GLOBAL_MIRROR_OFFSET, PAGE_FLAGS_OFFSET, instrument
from node.wasm.validation import decode_module_bytes, parse
from vocab.leb128 import encode_leb128 as uleb
from vocab.leb128 import encode_sleb128 as sleb
from vocab.wasm import I32, Reader, WasmFormatError, WasmModule, parse_module


def wat(text: str) -> bytes:
    return wasmtime.wat2wasm(text)


def runtime() -> CanisterRuntime:
    """The IC's use of a fresh engine (its own cache)."""
    return CanisterRuntime(WasmEngine())


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_uleb_round_trip(value: int) -> None:
    assert Reader(uleb(value)).uleb(64) == value


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_sleb_round_trip(value: int) -> None:
    assert Reader(sleb(value)).sleb(64) == value


def test_parse_sections_imports_exports_globals_custom() -> None:
    module = parse_module(
        wat("""
      (module
        (import "ic0" "msg_reply" (func))
        (memory 2 10)
        (global (mut i32) (i32.const 7))
        (global i64 (i64.const 1))
        (func (export "canister_update go"))
        (start 1)
        (@custom "icp:public candid:service" "service : {}"))
    """)
    )
    assert [(i.module, i.name) for i in module.imports] == [("ic0", "msg_reply")]
    assert module.memory is not None and (module.memory.minimum, module.memory.maximum) == (2, 10)
    assert [(g.mutable, g.valtype) for g in module.globals] == [(True, 0x7F), (False, 0x7E)]
    assert [e.name for e in module.exports] == ["canister_update go"]
    assert module.start == 1
    assert module.custom_section("icp:public candid:service") == b"service : {}"


def test_garbage_is_rejected() -> None:
    with pytest.raises(WasmFormatError):
        parse_module(b"\x00asm\x01\x00\x00\x00\x01\xff")
    with pytest.raises(ModuleRejected) as info:
        decode_module_bytes(b"hello")
    assert info.value.rule == "module-format"


def test_instrumented_module_marks_pages_and_globals_and_saves_globals() -> None:
    source = wat("""
      (module
        (memory 2)
        (global $g (mut i64) (i64.const 5))
        (global $f (mut f32) (f32.const 1.5))
        (func $start (i32.store (i32.const 16) (i32.const 1)))
        (start $start)
        (func (export "store") (i64.store offset=8 (i32.const 70000) (i64.const 3)))
        (func (export "fill") (memory.fill (i32.const 8192) (i32.const 1) (i32.const 5000)))
        (func (export "set") (global.set $g (i64.const 9)))
        (func (export "get") (result i64) (global.get $g)))
    """)
    inst = instrument(source)
    plan = inst.plan
    assert plan.start_export and plan.memory_export
    engine = wasmtime.Engine(_config())
    store = wasmtime.Store(engine)
    store.set_fuel(10**9)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, inst.wasm), [])
    ex = instance.exports(store)
    dirty = ex[plan.dirty_export]
    memory = ex[plan.memory_export]
    assert memory.read(store, 16, 20) == bytearray(4)  # start did not run at instantiation
    ex[plan.start_export](store)
    assert memory.read(store, 16, 17) == bytearray(b"\x01")
    ex["store"](store)
    ex["fill"](store)
    ex["set"](store)
    flags = dirty.read(store, PAGE_FLAGS_OFFSET, PAGE_FLAGS_OFFSET + 32)
    marked = [i for i, b in enumerate(flags) if b]
    assert marked == [0, 2, 3, 17]  # start's store, the fill's pages 2-3, 70008 // 4096
    assert dirty.read(store, 0, 2) == bytearray(b"\x01\x00")  # $g set, $f not
    ex[plan.save_globals_export](store)
    mirror = bytes(dirty.read(store, GLOBAL_MIRROR_OFFSET, GLOBAL_MIRROR_OFFSET + 16))
    assert mirror[:8] == (9).to_bytes(8, "little")
    assert mirror[8:12] == bytes.fromhex("0000c03f")  # 1.5f bit-exact
    dirty.write(store, (42).to_bytes(8, "little"), GLOBAL_MIRROR_OFFSET)
    ex[plan.load_globals_export](store)
    assert ex["get"](store) == 42


def _config() -> wasmtime.Config:
    return deterministic_config()


# -- the IC's module rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, rule",
    [
        ('(module (import "env" "f" (func)))', "import-module"),
        ('(module (import "ic0" "no_such_call" (func)))', "import-unknown"),
        ('(module (import "ic0" "msg_reply" (func (param i32))))', "import-signature"),
        ('(module (import "ic0" "msg_arg_data_size" (func (result i64))))', "import-signature"),
        (
            '(module (import "ic0" "msg_arg_data_size" (func (result i32))) (memory i64 1))',
            "import-signature",
        ),
        ('(module (import "ic0" "stable_size" (func (result i32))) (memory i64 1))', "import-32bit-only"),
        ('(module (import "ic0" "m" (memory 1)))', "import-kind"),
        ("(module (memory 1) (memory 1))", "memory-count"),
        ('(module (func (export "canister_init") (param i32)))', "export-signature"),
        ('(module (func (export "canister_update f") (result i32) (i32.const 0)))', "export-signature"),
        ('(module (func (export "canister_foo")))', "export-reserved-prefix"),
        (
            '(module (func (export "canister_update f")) (func (export "canister_query f")))',
            "export-duplicate-method",
        ),
        ('(module (@custom "icp:other x" ""))', "custom-section-name"),
        ('(module (@custom "icp:public x" "") (@custom "icp:private x" ""))', "custom-section-duplicate"),
        ("(module (global (mut funcref) (ref.null func)))", "global-type"),
        (
            '(module (table 1 funcref) (func (export "canister_update g") (drop (table.grow (ref.null func) (i32.const 1)))))',
            "table-mutation",
        ),
    ],
)
def test_module_rules(text: str, rule: str) -> None:
    with pytest.raises(InvalidModule) as info:
        runtime().compile(wat(text))
    assert info.value.rule == rule
    assert f"[{rule}]" in info.value.message


def test_counts_are_limited() -> None:
    many_globals = "(module " + "(global i32 (i32.const 0)) " * 1001 + ")"
    with pytest.raises(InvalidModule) as info:
        runtime().compile(wat(many_globals))
    assert info.value.rule == "global-count"
    sections = "(module " + "".join(f'(@custom "icp:public s{i}" "")' for i in range(17)) + ")"
    with pytest.raises(InvalidModule) as info:
        runtime().compile(wat(sections))
    assert info.value.rule == "custom-section-count"


def test_invalid_wasm_is_named() -> None:
    # type-incorrect code passes the structural reader but not wasmtime's validator
    with pytest.raises(InvalidModule) as info:
        runtime().compile(
            wat('(module (func (export "f") (result i32) (i32.const 1)))')[:-3] + b"\x00\x00\x00"
        )
    assert info.value.rule in ("module-format", "wasm-validation")


def test_valid_module_info_and_metadata() -> None:
    info = canister_module_rules(
        parse(
            wat("""
      (module (memory i64 1)
        (func (export "canister_update a")) (func (export "canister_query b"))
        (func (export "canister_composite_query c")) (func (export "canister_init"))
        (@custom "icp:private enhanced-orthogonal-persistence" "")
        (@custom "icp:public candid:service" "service : {}"))
    """)
        )
    )
    assert info.memory64 and info.enhanced_orthogonal_persistence
    assert (info.update_methods, info.query_methods, info.composite_query_methods) == (("a",), ("b",), ("c",))
    assert info.method_kind("c") == "composite_query" and info.has("canister_init")
    assert info.metadata("candid:service") == ("public", b"service : {}")


def test_gzip_and_compile_cache() -> None:
    ic = runtime()
    raw = wat('(module (func (export "canister_update a")))')
    first = ic.compile(gzip.compress(raw, mtime=0))
    assert first.wasm == raw
    ic.compile(gzip.compress(raw, mtime=0))
    assert ic.engine.compilations == 1
    with pytest.raises(InvalidModule) as info:
        ic.compile(b"\x1f\x8b\x08" + b"garbage")
    assert info.value.rule == "module-format"


def test_engine_is_deterministic_by_configuration() -> None:
    engine = default_engine()
    assert engine is default_engine()
    # relaxed SIMD and threads are refused by the engine's validator
    with pytest.raises(InvalidModule):
        runtime().compile(wat("(module (memory 1 1 shared))"))


# -- the engine with another host API ---------------------------------------------------------


class _Counter:
    """A host API that is not the IC's: one import, ``env.bump``, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.host_instructions = 0
        self.imports = HostImports({("env", "bump"): HostFunction((I32,), (I32,), self.bump)})

    def bump(self, caller: object, value: int) -> int:
        self.calls += 1
        self.host_instructions += 100
        return value + 1


def _no_rules(module: WasmModule) -> int:
    return len(module.imports)


def test_a_second_host_api_plugs_in_without_the_ic() -> None:
    engine = WasmEngine()
    host = _Counter()
    compiled = engine.compile(
        wat("""
      (module
        (import "env" "bump" (func $bump (param i32) (result i32)))
        (memory 1)
        (global $g (mut i32) (i32.const 0))
        (func (export "run") (global.set $g (call $bump (global.get $g))) (i32.store (i32.const 0) (global.get $g)))
        (func (export "spin") (loop (br 0))))
    """),
        _no_rules,
    )
    assert compiled.info == 1
    instance = WasmInstance(engine, compiled, host.imports, 1 << 26)
    used = instance.call("run", 10_000, host)
    assert host.calls == 1 and used > 100
    instance.commit()
    state = instance.snapshot()
    assert state.heap[:4] == (1).to_bytes(4, "little")
    instance.call("run", 10_000, host)
    instance.rollback()
    assert instance.snapshot() == state
    with pytest.raises(OutOfFuel) as stop:
        instance.call("spin", 5_000, host)
    assert stop.value.instructions == 5_000
    instance.rollback()
    fresh = WasmInstance(engine, compiled, host.imports, 1 << 26)
    fresh.restore(state)
    assert fresh.snapshot() == state
    with pytest.raises(Trapped):
        WasmInstance(
            engine,
            engine.compile(wat('(module (memory 1) (func (export "t") unreachable))'), _no_rules),
            host.imports,
            1 << 26,
        ).call("t", 100, host)
