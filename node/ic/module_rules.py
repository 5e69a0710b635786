"""The IC's rules for canister modules, checked before a module is compiled.

The engine checks what any module must satisfy (size, one memory, no threads); these are
the rules of the specification's "WebAssembly module requirements" that are the IC's own:
imports only from ``ic0`` with the signature for the module's pointer width, exports named
``canister_*`` only for entry points the IC knows, with type ``() -> ()``, and
``icp:public``/``icp:private`` metadata sections within their limits. Each failed check
raises ``ModuleRejected`` with the rule's name, which the runtime turns into
:class:`~node.ic.errors.InvalidModule`, so that a developer can see which requirement the
module breaks (and a test can assert on it) without reading a wasmtime backtrace.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.ic.ic0 import IC0_BY_NAME
from node.wasm.errors import ModuleRejected
from node.wasm.instance import WASM_PAGE
from vocab.wasm import KIND_FUNC, KIND_NAMES, FuncType, WasmFormatError, WasmModule

MAX_CUSTOM_SECTIONS = 16
MAX_CUSTOM_SECTIONS_SIZE = 1024 * 1024
MAX_EXPORTED_METHODS = 1_000
MAX_EXPORTED_NAMES_LENGTH = 20_000

EOP_SECTION = "enhanced-orthogonal-persistence"
"""Declared as ``icp:private enhanced-orthogonal-persistence`` by Motoko's persistent heap."""

SYSTEM_ENTRY_POINTS = (
    "canister_init",
    "canister_inspect_message",
    "canister_pre_upgrade",
    "canister_post_upgrade",
    "canister_heartbeat",
    "canister_global_timer",
    "canister_on_low_wasm_memory",
)
METHOD_PREFIXES = {
    "canister_update ": "update",
    "canister_query ": "query",
    "canister_composite_query ": "composite_query",
}
_UNIT = FuncType((), ())


@dataclass(frozen=True)
class ModuleInfo:
    """What execution needs to know about a valid module."""

    memory64: bool
    update_methods: tuple[str, ...]
    query_methods: tuple[str, ...]
    composite_query_methods: tuple[str, ...]
    entry_points: tuple[str, ...]
    public_metadata: tuple[tuple[str, bytes], ...]
    private_metadata: tuple[tuple[str, bytes], ...]
    function_count: int
    global_count: int
    initial_memory_bytes: int = 0
    """What the module's memory declares as its initial size: instantiating it allocates that much."""

    @property
    def enhanced_orthogonal_persistence(self) -> bool:
        return any(name == EOP_SECTION for name, _ in self.private_metadata)

    def has(self, entry_point: str) -> bool:
        return entry_point in self.entry_points

    def method_kind(self, method: str) -> str | None:
        if method in self.update_methods:
            return "update"
        if method in self.query_methods:
            return "query"
        if method in self.composite_query_methods:
            return "composite_query"
        return None

    def metadata(self, name: str) -> tuple[str, bytes] | None:
        for n, data in self.public_metadata:
            if n == name:
                return ("public", data)
        for n, data in self.private_metadata:
            if n == name:
                return ("private", data)
        return None


def canister_module_rules(module: WasmModule) -> ModuleInfo:
    """Check the IC's module requirements; return the facts execution relies on."""
    memory = module.memory
    memory64 = bool(memory and memory.is64)

    # imports: only known ic0 functions with the exact signature for this pointer width
    for imp in module.imports:
        if imp.kind != KIND_FUNC:
            raise ModuleRejected(
                "import-kind",
                f"the module imports {KIND_NAMES.get(imp.kind, imp.kind)} {imp.module}.{imp.name}; "
                "only functions from ic0 may be imported",
            )
        if imp.module != "ic0":
            raise ModuleRejected(
                "import-module",
                f"the module imports function '{imp.name}' from '{imp.module}'; "
                "only functions from 'ic0' may be imported",
            )
        spec = IC0_BY_NAME.get(imp.name)
        if spec is None:
            raise ModuleRejected(
                "import-unknown",
                f"the module imports function 'ic0.{imp.name}', which the System API does not provide",
            )
        if spec.only32 and memory64:
            raise ModuleRejected(
                "import-32bit-only",
                f"'ic0.{imp.name}' is only available to canisters with a 32-bit memory",
            )
        params, results = spec.signature(memory64)
        assert imp.type_index is not None
        if not 0 <= imp.type_index < len(module.types):
            raise ModuleRejected("module-format", f"type index {imp.type_index} out of range")
        actual = module.types[imp.type_index]
        if actual.params != params or actual.results != results:
            expected = FuncType(params, results)
            raise ModuleRejected(
                "import-signature",
                f"'ic0.{imp.name}' is imported with type {actual.describe()}, "
                f"expected {expected.describe()} for a {'64' if memory64 else '32'}-bit memory",
            )

    # exports
    updates: list[str] = []
    queries: list[str] = []
    composites: list[str] = []
    entry_points: list[str] = []
    method_names: set[str] = set()
    names_length = 0
    for export in module.exports:
        name = export.name
        if not name.startswith("canister_"):
            continue
        if export.kind != KIND_FUNC:
            raise ModuleRejected(
                "export-kind", f"export '{name}' uses the reserved prefix canister_ but is not a function"
            )
        kind = None
        for prefix, k in METHOD_PREFIXES.items():
            if name.startswith(prefix):
                kind = k
                method = name[len(prefix) :]
                break
        if kind is None and name not in SYSTEM_ENTRY_POINTS:
            raise ModuleRejected(
                "export-reserved-prefix",
                f"the module exports '{name}', which starts with canister_ but is not an entry point "
                "the IC knows",
            )
        try:
            ftype = module.function_type(export.index)
        except WasmFormatError as exc:
            raise ModuleRejected("module-format", str(exc)) from exc
        if ftype != _UNIT:
            raise ModuleRejected(
                "export-signature", f"entry point '{name}' has type {ftype.describe()}, expected () -> ()"
            )
        if kind is None:
            entry_points.append(name)
            continue
        if method in method_names:
            raise ModuleRejected(
                "export-duplicate-method",
                f"method '{method}' is exported more than once as an update, query or composite query",
            )
        method_names.add(method)
        names_length += len(method.encode("utf-8"))
        {"update": updates, "query": queries, "composite_query": composites}[kind].append(method)
    if len(method_names) > MAX_EXPORTED_METHODS:
        raise ModuleRejected(
            "exported-method-count", f"{len(method_names)} exported methods, at most {MAX_EXPORTED_METHODS}"
        )
    if names_length > MAX_EXPORTED_NAMES_LENGTH:
        raise ModuleRejected(
            "exported-method-names-length",
            f"exported method names total {names_length} bytes, at most {MAX_EXPORTED_NAMES_LENGTH}",
        )
    # custom sections: icp:public / icp:private metadata
    public: list[tuple[str, bytes]] = []
    private: list[tuple[str, bytes]] = []
    total = 0
    for section in module.custom_sections:
        if not section.name.startswith("icp:"):
            continue
        if section.name.startswith("icp:public "):
            target, name = public, section.name[len("icp:public ") :]
        elif section.name.startswith("icp:private "):
            target, name = private, section.name[len("icp:private ") :]
        else:
            raise ModuleRejected(
                "custom-section-name",
                f"custom section '{section.name}' uses the icp: prefix but is neither 'icp:public <name>' "
                "nor 'icp:private <name>'",
            )
        if any(n == name for n, _ in public) or any(n == name for n, _ in private):
            raise ModuleRejected("custom-section-duplicate", f"metadata '{name}' is declared more than once")
        target.append((name, section.data))
        total += len(name.encode("utf-8")) + len(section.data)
    if len(public) + len(private) > MAX_CUSTOM_SECTIONS:
        raise ModuleRejected(
            "custom-section-count",
            f"{len(public) + len(private)} icp: custom sections, at most {MAX_CUSTOM_SECTIONS}",
        )
    if total > MAX_CUSTOM_SECTIONS_SIZE:
        raise ModuleRejected(
            "custom-section-size",
            f"icp: custom sections total {total} bytes, at most {MAX_CUSTOM_SECTIONS_SIZE}",
        )

    return ModuleInfo(
        memory64=memory64,
        update_methods=tuple(updates),
        query_methods=tuple(queries),
        composite_query_methods=tuple(composites),
        entry_points=tuple(entry_points),
        public_metadata=tuple(public),
        private_metadata=tuple(private),
        function_count=module.function_count,
        global_count=len(module.globals),
        initial_memory_bytes=memory.minimum * WASM_PAGE if memory is not None else 0,
    )
