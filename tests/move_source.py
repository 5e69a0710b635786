"""Compile Move source with the project's front end and framework, and run it on the VM."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from move import ir
from move.codegen import compile_package as generate
from move.compiler import compile_package
from move.types import ModuleId, address_of
from node.sui import CallResult, MoveVM, ObjectLog, TxContext

FRAMEWORK = Path(__file__).resolve().parent.parent / "move" / "framework"
SENDER = bytes(31) + b"\x0a"
DIGEST = hashlib.blake2b(b"a transaction", digest_size=32).digest()
CTX = TxContext(sender=SENDER, digest=DIGEST)


@functools.lru_cache(maxsize=1)
def framework() -> tuple[ir.Package, ir.Package]:
    std = compile_package(FRAMEWORK / "move-stdlib")
    sui = compile_package(FRAMEWORK / "sui-framework", deps=[std])
    return std, sui


@functools.lru_cache(maxsize=1)
def framework_wasm() -> tuple[bytes, ...]:
    return tuple(w for package in framework() for w in generate(package).values())


class Package:
    """A compiled package on a VM with the framework, at ``address``."""

    def __init__(self, sources: dict[str, str], name: str = "t", address: int = 0xCAFE) -> None:
        self.address = address_of(address)
        self.ir = compile_package(
            sources=sources, named_addresses={name: self.address}, deps=list(framework()), name=name
        )
        self.wasm = generate(self.ir)
        self.vm = MoveVM()
        self.vm.add_modules([*framework_wasm(), *self.wasm.values()])

    def call(
        self,
        module: str,
        function: str,
        *args: bytes,
        type_args: tuple[object, ...] = (),
        gas: int = 10**7,
        log: ObjectLog | None = None,
    ) -> CallResult:
        return self.vm.call(
            ModuleId(self.address, module),
            function,
            list(args),
            type_args,
            ctx=CTX,
            gas_limit=gas,
            log=log,  # type: ignore[arg-type]
        )

    def returns(self, module: str, function: str, *args: bytes) -> list[bytes]:
        return self.call(module, function, *args).returns
