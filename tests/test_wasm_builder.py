"""The Wasm writer: its output is read back by the project's own reader and validated and run
by wasmtime (the outside judge of the binary format)."""

from __future__ import annotations

import wasmtime

from vocab.leb128 import encode_sleb128
from vocab.wasm import I32, I64, KIND_FUNC, KIND_GLOBAL, KIND_MEMORY, parse_module
from vocab.wasm.builder import Code, ModuleBuilder


def _sample() -> bytes:
    b = ModuleBuilder()
    b.import_memory("env", "memory", 1)
    log = b.import_func("host", "log", (I64,), ())
    base = b.import_global("env", "base", I32)
    counter = b.global_("counter", I64, True, 7)
    # later-declared function called first: indices resolved at build time
    square = b.declare("square", (I64,), (I64,))
    main = Code()
    main.local_get(0).call(square).local_tee(1).call(log)
    main.global_get(counter).local_get(1).op(0x7C).global_set(counter)  # i64.add
    main.global_get(base).i64_load().global_get(counter).op(0x7C).end()
    b.export("main", b.function("main", (I64,), (I64,), [I64], main))
    b.define(square, [], Code().local_get(0).local_get(0).op(0x7E).end())
    b.export("square", square)
    b.data(base, (1000).to_bytes(8, "little"))
    b.custom("note", b"hello")
    two = b.type_index((), (I64, I64))
    pair = Code().block((two,)).i64_const(1).i64_const(-(2**63)).end().op(0x7C).end()
    b.export("pair", b.function("pair", (), (I64,), [], pair))
    return b.build()


def test_output_parses_with_the_projects_reader() -> None:
    wasm = _sample()
    parsed = parse_module(wasm)
    assert [(i.module, i.name, i.kind) for i in parsed.imports] == [
        ("env", "memory", KIND_MEMORY),
        ("host", "log", KIND_FUNC),
        ("env", "base", KIND_GLOBAL),
    ]
    assert {e.name: e.index for e in parsed.exports} == {"main": 1, "square": 2, "pair": 3}
    assert parsed.custom_section("note") == b"hello"
    assert parsed.data_segment_count == 1
    assert parsed.globals[0].mutable and parsed.globals[0].init == b"\x42" + encode_sleb128(7) + b"\x0b"


def test_wasmtime_validates_and_runs_it() -> None:
    wasm = _sample()
    engine = wasmtime.Engine()
    wasmtime.Module.validate(engine, wasm)
    store = wasmtime.Store(engine)
    memory = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, None)))
    logged: list[int] = []
    log = wasmtime.Func(store, wasmtime.FuncType([wasmtime.ValType.i64()], []), logged.append)
    base = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), False), wasmtime.Val.i32(64))
    instance = wasmtime.Instance(store, wasmtime.Module(engine, wasm), [memory, log, base])
    main = instance.exports(store)["main"]
    assert isinstance(main, wasmtime.Func)
    # 1000 (the data segment at the imported base) + 7 + 5*5
    assert main(store, 5) == 1032
    assert logged == [25]
    pair = instance.exports(store)["pair"]
    assert isinstance(pair, wasmtime.Func)
    assert pair(store) == -(2**63) + 1  # a two-result block (multi-value type index)


def test_same_input_same_bytes() -> None:
    assert _sample() == _sample()


def test_large_constants_are_signed_leb128() -> None:
    b = ModuleBuilder()
    body = Code().i64_const(2**64 - 1).end()
    b.export("f", b.function("f", (), (I64,), [], body))
    wasm = b.build()
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    f = wasmtime.Instance(store, wasmtime.Module(engine, wasm), []).exports(store)["f"]
    assert isinstance(f, wasmtime.Func)
    assert f(store) == -1  # u64 max is the i64 with every bit set
