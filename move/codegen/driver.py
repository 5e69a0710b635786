"""Putting one Move module together: declare every function, generate the bodies, add
the constants and the metadata, write the bytes."""

from __future__ import annotations

from move import abi, ir
from move.codegen.function import FunctionGen
from move.codegen.module import ModuleGen
from move.types import ModuleId
from vocab.wasm.builder import Code, Func
from vocab.wasm.module import I64


def _generate(self: ModuleGen) -> bytes:
    """The module's bytes: natives become imports with exported wrappers, others Wasm functions."""
    module = self.module
    decls = list(module.functions.values())
    natives: dict[str, Func] = {}
    for i, decl in enumerate(decls):
        params = (I64,) * (len(decl.type_params) + len(decl.params))
        results = (I64,) * len(decl.returns)
        self.function_index[decl.name] = i
        if decl.native:
            natives[decl.name] = self.b.import_func(
                abi.NATIVE, abi.native_import_name(module.id, decl.name), params, results
            )
            self.own[decl.name] = natives[decl.name]
        else:
            self.own[decl.name] = self.b.declare(decl.name, params, results)
    for decl in decls:
        if decl.native:
            # an exported wrapper, so that other modules call natives like any function
            params = (I64,) * (len(decl.type_params) + len(decl.params))
            body = Code()
            for i in range(len(params)):
                body.local_get(i)
            body.call(natives[decl.name]).end()
            wrapper = self.b.function(decl.name + "$native", params, (I64,) * len(decl.returns), [], body)
            self.b.export(decl.name, wrapper)
        else:
            func = self.own[decl.name]
            FunctionGen(self, decl, self.function_index[decl.name]).generate(func)
            self.b.export(decl.name, func)
    if self.data:
        self.b.data(self.data_base, bytes(self.data))
    self.b.custom(abi.METADATA_SECTION, abi.canonical_json(self.metadata()))
    return self.b.build()


def compile_module(module: ir.ModuleDecl) -> bytes:
    """The Wasm module (bytes) of one checked Move module; the same IR gives the same bytes.

    Calls into other modules are imports by name, so a module compiles without its
    dependencies' IR; natives are imported by the module that declares them and exported
    through a wrapper.
    """
    return _generate(ModuleGen(module))


def compile_package(package: ir.Package) -> dict[ModuleId, bytes]:
    """Every module of ``package``, in the package's order."""
    return {m.id: compile_module(m) for m in package.modules}


__all__ = ["compile_module", "compile_package"]
