"""Sui's extra rules for Move packages, checked on the typed IR (reference/sui.md section 5).

Plain Move accepts programs Sui cannot run: an object without a unique id, an object sent
away by a module that does not own its type, an ``init`` that takes arguments the runtime
cannot supply, a one-time witness anyone can forge. Sui refuses them twice, in its compiler
(``sui_mode``) and in its bytecode verifier at publish; the subnet refuses them here, once,
after type checking and before code generation, so a researcher sees the error at build
time with its place in the source.

Each error uses the code and the wording of Sui's compiler (``Sui E02007: invalid object
declaration`` ...), with the detail the compiler prints as its labels joined into the
message, so it reads as ``sui move build`` would print it. The older compiler's entry
signature check (``Sui E02002``), which Sui now leaves to its verifier, is kept here with
its wording, and so is the id-leak rule of Sui's verifier (``Sui E01001``: an object is
packed only with a ``UID`` fresh from ``object::new``). Two rules of reference/sui.md
section 5 are the type checker's, not this module's: a ``key`` struct's fields need
``store``, and the ``public_*`` transfer functions need ``key + store`` (both ``E05001``).
Only the package's own modules are checked; dependencies were checked when they were built.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from move import ir
from move.check.env import Env
from move.codes import line_of
from move.source import CompileError, Diagnostic, Loc
from move.types import (
    BOOL,
    Ability,
    ModuleId,
    PrimType,
    RefType,
    StructType,
    TupleType,
    Type,
    TypeParam,
    VectorType,
    address_of,
    short_address,
)

__all__ = [
    "ENTRY_FUN_SIGNATURE",
    "EVENT_EMIT_CALL",
    "INIT_CALL",
    "ID_LEAK",
    "INIT_FUN",
    "OBJECT_DECL",
    "OTW_DECL",
    "OTW_USAGE",
    "PRIVATE_TRANSFER_CALL",
    "check_package",
    "verify_package",
]

# Sui's compiler codes (``sui_mode/mod.rs``: category 2 "typing", then the rule's number) and
# the headline each prints.
ENTRY_FUN_SIGNATURE = "Sui E02002"
INIT_FUN = "Sui E02003"
OTW_DECL = "Sui E02004"
OTW_USAGE = "Sui E02005"
INIT_CALL = "Sui E02006"
OBJECT_DECL = "Sui E02007"
EVENT_EMIT_CALL = "Sui E02008"
PRIVATE_TRANSFER_CALL = "Sui E02009"
ID_LEAK = "Sui E01001"

HEADLINES: dict[str, str] = {
    ENTRY_FUN_SIGNATURE: "invalid 'entry' function signature",
    INIT_FUN: "invalid 'init' function",
    OTW_DECL: "invalid one-time witness declaration",
    OTW_USAGE: "invalid one-time witness usage",
    INIT_CALL: "invalid 'init' call",
    OBJECT_DECL: "invalid object declaration",
    EVENT_EMIT_CALL: "invalid event",
    PRIVATE_TRANSFER_CALL: "invalid private transfer call",
    ID_LEAK: "invalid object construction",
}

OTW_NOTE = (
    "One-time witness types are structs with the following requirements: their name is the "
    "upper-case version of the module's name, they have no fields (or a single boolean field), "
    "they have no type parameters, and they have only the 'drop' ability."
)

STD = address_of(1)
SUI = address_of(2)
OBJECT = ModuleId(SUI, "object")
TX_CONTEXT = ModuleId(SUI, "tx_context")
TRANSFER = ModuleId(SUI, "transfer")
EVENT = ModuleId(SUI, "event")
CLOCK = ModuleId(SUI, "clock")
UID_TYPE = StructType(OBJECT, "UID")
ENTRY_PRIMITIVE_STRUCTS = {
    (ModuleId(STD, "string"), "String"),
    (ModuleId(STD, "ascii"), "String"),
    (OBJECT, "ID"),
}
OPTION = (ModuleId(STD, "option"), "Option")
PRIVATE_TRANSFER_FUNCTIONS = ("transfer", "freeze_object", "share_object", "receive", "party_transfer")
NAMED_ADDRESSES = {STD: "std", SUI: "sui"}
SYSTEM_OBJECT_CREATORS = {(CLOCK, "create")}
"""Framework functions that make a system object at its fixed id (Sui's id-leak verifier skips
them too): the clock at 0x6, created once at genesis."""


def verify_package(
    package: ir.Package,
    deps: Sequence[ir.Package] = (),
    sources: Mapping[str, str] | None = None,
    named_addresses: Mapping[str, bytes] | None = None,
) -> None:
    """Raise ``CompileError`` with every Sui rule ``package`` breaks (nothing if it keeps them)."""
    found = check_package(package, deps, sources, named_addresses)
    if found:
        raise CompileError(found)


def check_package(
    package: ir.Package,
    deps: Sequence[ir.Package] = (),
    sources: Mapping[str, str] | None = None,
    named_addresses: Mapping[str, bytes] | None = None,
) -> list[Diagnostic]:
    """Every Sui rule ``package``'s modules break, in source order.

    ``deps`` supply the declarations of the structs the package uses from other packages
    (their abilities decide entry parameters); ``sources`` (file name -> text) supply the
    source lines shown under each error; ``named_addresses`` (the manifest's, name ->
    address) let messages say ``counter::counter`` as Sui does rather than ``0x0::counter``.
    """
    names = dict(NAMED_ADDRESSES)
    for name, address in sorted((named_addresses or {}).items()):
        names.setdefault(address, name)
    env = Env(package.name)
    for pkg in (*deps, package):
        env.add_dependency(pkg)
    found: list[Diagnostic] = []
    for module in package.modules:
        checker = _ModuleChecker(module, env, sources, names)
        checker.run()
        found.extend(checker.found)
    found.sort(key=lambda d: (d.loc.file, d.loc.line, d.loc.col))
    return found


# -- formatting as Sui's compiler does -------------------------------------------------------------


def module_name(module: ModuleId, names: Mapping[bytes, str] = NAMED_ADDRESSES) -> str:
    """``sui::transfer``: the address by its name where it has one, ``0x…::m`` otherwise."""
    named = names.get(module.address)
    return f"{named or short_address(module.address)}::{module.name}"


def type_text(ty: Type, names: Mapping[bytes, str] = NAMED_ADDRESSES) -> str:
    """A type as Sui's messages write it (``sui::object::UID``, ``&mut T``, ``vector<u8>``)."""
    if isinstance(ty, StructType):
        inner = f"<{', '.join(type_text(a, names) for a in ty.args)}>" if ty.args else ""
        return f"{module_name(ty.module, names)}::{ty.name}{inner}"
    if isinstance(ty, VectorType):
        return f"vector<{type_text(ty.element, names)}>"
    if isinstance(ty, RefType):
        return ("&mut " if ty.mutable else "&") + type_text(ty.inner, names)
    if isinstance(ty, TupleType):
        return "(" + ", ".join(type_text(i, names) for i in ty.items) + ")"
    return str(ty)


# -- the checks of one module ---------------------------------------------------------------------


@dataclass
class _ModuleChecker:
    module: ir.ModuleDecl
    env: Env
    sources: Mapping[str, str] | None
    names: Mapping[bytes, str] = field(default_factory=lambda: dict(NAMED_ADDRESSES))

    def __post_init__(self) -> None:
        self.found: list[Diagnostic] = []
        self.otw_name = self.module.id.name.upper()
        self.otw_valid: bool | None = None
        """None: no one-time witness seen; True/False: declared, valid or not."""

    def report(self, loc: Loc, code: str, detail: str) -> None:
        message = f"{HEADLINES[code]}: {detail}"
        self.found.append(Diagnostic(loc, code, message, line_of(self.sources, loc)))

    def abilities(self, ty: Type, type_params: tuple[ir.TypeParamDecl, ...] = ()) -> Ability:
        """The abilities of ``ty`` (Move's rules, the checker's implementation); a struct whose
        declaration the caller did not supply (missing from ``deps``) counts as having none."""
        try:
            return self.env.abilities(ty, type_params)
        except KeyError:
            return Ability.NONE

    def declares_key(self, ty: StructType) -> bool:
        """Whether ``ty``'s declaration has ``key`` (whatever its instantiation)."""
        try:
            return Ability.KEY in self.env.struct(ty).abilities
        except KeyError:
            return False

    def run(self) -> None:
        otw = self.module.structs.get(self.otw_name)
        if otw is not None and otw.is_enum:
            otw = None  # only a struct can be a one-time witness
        if otw is not None and _invalid_otw_field(otw) is None:
            self.check_otw(otw, None)
        init = self.module.functions.get("init")
        if init is not None:
            self.check_init_signature(init)
        for struct in self.module.structs.values():
            self.check_object(struct)
        for function in self.module.functions.values():
            if function.name == "init":
                self.check_init_visibility(function)
            if function.entry:
                self.check_entry(function)
            if function.body is not None:
                self.check_fresh_ids(function)
                for expr in _walk(function.body):
                    self.check_expr(expr)

    # objects

    def check_object(self, struct: ir.StructDecl) -> None:
        if Ability.KEY not in struct.abilities:
            return
        where = f"Invalid object '{struct.name}'. Structs with the 'key' ability must have 'id: sui::object::UID' as their first field"
        if not struct.fields or struct.fields[0].name != "id":
            loc = struct.fields[0].loc if struct.fields else struct.loc
            self.report(loc, OBJECT_DECL, where)
            return
        first = struct.fields[0]
        if first.type != UID_TYPE:
            self.report(
                first.loc, OBJECT_DECL, f"{where}. But found type: '{type_text(first.type, self.names)}'"
            )

    # one-time witnesses

    def check_otw(self, struct: ir.StructDecl, usage: Loc | None) -> None:
        if self.otw_valid is not None:
            return
        used = f". Attempted usage as a one-time witness here: {usage}" if usage is not None else ""
        valid = True
        if struct.is_enum:
            self.report(struct.loc, OTW_DECL, "One-time witness types must be structs, not enums" + used)
            valid = False
        if struct.type_params:
            self.report(struct.loc, OTW_DECL, "One-time witness types cannot have type parameters" + used)
            valid = False
        invalid = _invalid_otw_field(struct)
        if invalid is not None:
            loc, more = invalid
            prefix = "Found more than one field. " if more else ""
            self.report(
                loc,
                OTW_DECL,
                f"{prefix}One-time witness types must have no fields, or exactly one field of type bool{used}",
            )
            valid = False
        if struct.abilities != Ability.DROP:
            self.report(
                struct.loc,
                OTW_DECL,
                "One-time witness types can only have the have the 'drop' ability" + used,
            )
            valid = False
        self.otw_valid = valid

    # init

    def check_init_visibility(self, init: ir.FunctionDecl) -> None:
        if init.visibility != ir.Visibility.PRIVATE:
            self.report(
                init.loc,
                INIT_FUN,
                "Invalid 'init' function declaration. 'init' functions must be internal to their module",
            )
        if init.entry:
            self.report(
                init.loc,
                INIT_FUN,
                "Invalid 'init' function declaration. 'init' functions cannot be 'entry' functions",
            )

    def check_init_signature(self, init: ir.FunctionDecl) -> None:
        bad = "Invalid 'init' function declaration. "
        if init.type_params:
            self.report(init.loc, INIT_FUN, bad + "'init' functions cannot have type parameters")
        if init.returns:
            self.report(init.loc, INIT_FUN, bad + "'init' functions must have a return type of '()'")
        params = init.params
        if not params or _tx_context_kind(params[-1].type) not in ("mut", "imm"):
            loc = params[-1].loc if params else init.loc
            self.report(
                loc,
                INIT_FUN,
                bad + "'init' functions must have their last parameter as '&sui::tx_context::TxContext' "
                "or '&mut sui::tx_context::TxContext'",
            )
        otw_type = f"{module_name(self.module.id, self.names)}::{self.otw_name}"
        if (
            len(params) == 1
            and self.otw_valid is not None
            and _tx_context_kind(params[0].type) in ("mut", "imm")
        ):
            self.report(
                params[0].loc,
                INIT_FUN,
                f"Invalid first parameter to 'init'. Expected this module's one-time witness type '{otw_type}'. "
                + OTW_NOTE,
            )
        elif len(params) > 1:
            first = params[0]
            is_otw = (
                isinstance(first.type, StructType)
                and first.type.module == self.module.id
                and first.type.name == self.otw_name
            )
            if not is_otw:
                self.report(
                    first.loc,
                    INIT_FUN,
                    f"{bad}Invalid parameter '{first.name}' of type '{type_text(first.type, self.names)}'. "
                    f"Expected a one-time witness type, '{otw_type}'. {OTW_NOTE}",
                )
            else:
                struct = self.module.structs.get(self.otw_name)
                if struct is not None:
                    self.check_otw(struct, first.loc)
        if len(params) > 2:
            self.report(params[2].loc, INIT_FUN, bad + "'init' functions can have at most two parameters")

    # entry

    def check_entry(self, function: ir.FunctionDecl) -> None:
        params = list(function.params)
        if params and _tx_context_kind(params[-1].type) in ("mut", "imm"):
            params.pop()
        declared = f"'{function.name}' was declared 'entry' here: {function.loc}"
        for param in params:
            mut_clock = _is_mut_clock(param.type)
            if mut_clock or not (
                self._entry_primitive(param.type, function) or self._entry_object(param.type, function)
            ):
                reason = (
                    "sui::clock::Clock must be passed by immutable reference, e.g. '&sui::clock::Clock'"
                    if mut_clock
                    else "'entry' parameters must be primitives (by-value), vectors of primitives, objects "
                    "(by-reference or by-value), or vectors of objects"
                )
                self.report(
                    param.loc,
                    ENTRY_FUN_SIGNATURE,
                    f"Invalid 'entry' parameter type for parameter '{param.name}'. {reason}. {declared}",
                )
        returns = function.returns
        for ty in returns:
            head = f"Invalid return type for entry function '{function.name}'"
            if isinstance(ty, RefType):
                self.report(function.loc, ENTRY_FUN_SIGNATURE, f"{head}. Expected a non-reference type")
            elif Ability.DROP not in self.abilities(ty, function.type_params):
                self.report(
                    function.loc,
                    ENTRY_FUN_SIGNATURE,
                    f"{head}. The type '{type_text(ty, self.names)}' does not have the ability 'drop'",
                )

    def _entry_primitive(self, ty: Type, function: ir.FunctionDecl) -> bool:
        if isinstance(ty, TypeParam):
            return Ability.KEY not in self.abilities(ty, function.type_params)
        if isinstance(ty, RefType):
            return self._entry_primitive(ty.inner, function)
        if isinstance(ty, VectorType):
            return self._entry_primitive(ty.element, function)
        if isinstance(ty, PrimType):
            return True
        if isinstance(ty, StructType):
            key = (ty.module, ty.name)
            if key in ENTRY_PRIMITIVE_STRUCTS:
                return True
            if key == OPTION:
                return all(self._entry_primitive(a, function) for a in ty.args)
        return False

    def _entry_object(self, ty: Type, function: ir.FunctionDecl) -> bool:
        if isinstance(ty, StructType) and ty.module == TRANSFER and ty.name == "Receiving":
            return True  # Sui's verifier admits `Receiving<T>` (the PTB passes an object ref)
        if isinstance(ty, RefType):
            ty = ty.inner
        elif isinstance(ty, VectorType):
            ty = ty.element
        return Ability.KEY in self.abilities(ty, function.type_params)

    # fresh ids

    def check_fresh_ids(self, function: ir.FunctionDecl) -> None:
        """Every object packed in ``function`` gets a ``UID`` straight from ``object::new``.

        Sui's id-leak verifier: otherwise a module could unpack one object and pack its
        ``UID`` into another, and two objects (or an old and a new one) would share an id.
        Tracked per local along the function's paths: a local is fresh only when every
        path that reaches a use assigned it the result of ``object::new`` (paths that abort,
        return, break or continue do not reach).
        """
        assert function.body is not None
        if (self.module.id, function.name) in SYSTEM_OBJECT_CREATORS:
            return
        _FreshIds(self, function).run(function.body)

    # expressions

    def check_expr(self, expr: ir.Expr) -> None:
        if isinstance(expr, ir.Call):
            self.check_call(expr)
        elif isinstance(expr, ir.Pack):
            struct = expr.struct
            if (
                self.otw_valid
                and struct.module == self.module.id
                and struct.name == self.otw_name
                and self.module.id != ModuleId(SUI, "sui")
            ):
                self.report(
                    expr.loc,
                    OTW_USAGE,
                    "Invalid one-time witness construction. One-time witness types cannot be created "
                    "manually, but are passed as an argument 'init'",
                )

    def check_call(self, call: ir.Call) -> None:
        target = call.function
        if target.name == "init":
            self.report(
                call.loc,
                INIT_CALL,
                f"Invalid call to '{module_name(target.module, self.names)}::init'. Module initializers cannot be called directly",
            )
        if target.module == EVENT and target.name == "emit" and call.type_args:
            ty = call.type_args[0]
            if not (isinstance(ty, StructType) and ty.module == self.module.id):
                self.report(
                    call.loc,
                    EVENT_EMIT_CALL,
                    "Invalid event. The function 'sui::event::emit' must be called with a type defined in "
                    f"the current module. The type '{type_text(ty, self.names)}' is not declared in the current module",
                )
        if (
            target.module == TRANSFER
            and target.name in PRIVATE_TRANSFER_FUNCTIONS
            and self.module.id != TRANSFER
            and call.type_args
        ):
            ty = call.type_args[0]
            if not (isinstance(ty, StructType) and ty.module == self.module.id):
                detail = (
                    f"Invalid private transfer. The function 'sui::transfer::{target.name}' is restricted "
                    "to being called in the object's module"
                )
                if isinstance(ty, StructType):
                    detail += f", '{module_name(ty.module, self.names)}'"
                detail += f". The type '{type_text(ty, self.names)}' is not declared in the current module"
                if Ability.STORE in self.abilities(ty):
                    detail += f". The object has 'store' so 'sui::transfer::public_{target.name}' can be called instead"
                self.report(call.loc, PRIVATE_TRANSFER_CALL, detail)


FRESH = True
"""The abstract value of a ``UID`` just made by ``object::new`` (anything else is not fresh)."""
OBJECT_NEW = ir.FunctionRef(OBJECT, "new")

_Fresh = dict[int, bool]
"""Local index -> whether it holds a fresh ``UID`` (absent: it does not)."""


def _join(a: _Fresh | None, b: _Fresh | None) -> _Fresh | None:
    """Locals fresh on both paths stay fresh; ``None`` is a path that does not continue."""
    if a is None:
        return b
    if b is None:
        return a
    return {k: v for k, v in a.items() if v and b.get(k, False)}


@dataclass
class _FreshIds:
    """A forward walk of one body tracking which locals hold a fresh ``UID``."""

    checker: _ModuleChecker
    function: ir.FunctionDecl

    def __post_init__(self) -> None:
        self.loop_exits: list[_Fresh | None] = []
        self.exit_labels: list[tuple[str | None, bool]] = []
        """Beside ``loop_exits``: each loop's or labeled block's (the flag) label."""
        self.loop_continues: list[_Fresh | None] = []
        self.reported: set[Loc] = set()

    def run(self, body: ir.Expr) -> None:
        self.eval(body, {})

    def eval(self, e: ir.Expr, env: _Fresh | None) -> tuple[bool, _Fresh | None]:
        """The freshness of ``e``'s value and the locals after it (``None``: it never finishes)."""
        if env is None:
            return False, None
        if isinstance(e, ir.Call):
            for arg in e.args:
                _, env = self.eval(arg, env)
            return e.function == OBJECT_NEW, env
        if isinstance(e, ir.Move | ir.Copy):
            return env.get(e.local, False), env
        if isinstance(e, ir.Assign):
            if isinstance(e.value, ir.Tuple) and len(e.value.items) == len(e.locals):
                states = []  # `let (id, n) = (object::new(ctx), 0);` keeps each item's freshness
                for item in e.value.items:
                    fresh, env = self.eval(item, env)
                    states.append(fresh)
            else:
                fresh, env = self.eval(e.value, env)
                states = [fresh and len(e.locals) == 1] * len(e.locals)
            if env is None:
                return False, None
            env = dict(env)
            for target, state in zip(e.locals, states, strict=True):
                if target is not None:
                    env[target] = state
            return False, env
        if isinstance(e, ir.Pack):
            states = []
            for item in e.fields:
                fresh, env = self.eval(item, env)
                states.append(fresh)
            key = self.checker.declares_key(e.struct)
            if env is not None and key and states and not states[0] and e.loc not in self.reported:
                self.reported.add(e.loc)
                self.checker.report(
                    e.loc,
                    ID_LEAK,
                    "Invalid object creation without a newly created UID. The UID must come directly from "
                    "sui::object::new",
                )
            return False, env
        if isinstance(e, ir.Unpack):
            _, env = self.eval(e.value, env)
            if env is None:
                return False, None
            env = dict(env)
            for target in e.binds:
                if target is not None:
                    env[target] = False
            return False, env
        if isinstance(e, ir.Block):
            for statement in e.statements:
                _, env = self.eval(statement, env)
            if e.result is None:
                return False, env
            return self.eval(e.result, env)
        if isinstance(e, ir.IfElse):
            _, env = self.eval(e.cond, env)
            then_fresh, then_env = self.eval(e.then, env)
            if e.otherwise is None:
                return False, _join(then_env, env)
            else_fresh, else_env = self.eval(e.otherwise, env)
            fresh = (then_fresh or then_env is None) and (else_fresh or else_env is None)
            return fresh and not (then_env is None and else_env is None), _join(then_env, else_env)
        if isinstance(e, ir.While | ir.Loop):
            return False, self.loop(e, env)
        if isinstance(e, ir.LabeledBlock):
            self.loop_exits.append(None)
            self.exit_labels.append((e.label, True))
            try:
                fresh, after = self.eval(e.body, env)
            finally:
                self.exit_labels.pop()
            return fresh and after is not None, _join(after, self.loop_exits.pop())
        if isinstance(e, ir.Break):
            if e.value is not None:
                _, env = self.eval(e.value, env)
            targets = [
                k
                for k, (label, block) in enumerate(self.exit_labels)
                if (e.label is None and not block) or (e.label is not None and e.label == label)
            ]
            if targets:
                k = targets[-1]
                self.loop_exits[k] = _join(self.loop_exits[k], env)
            return False, None
        if isinstance(e, ir.Continue):
            if self.loop_continues:
                self.loop_continues[-1] = _join(self.loop_continues[-1], env)
            return False, None
        if isinstance(e, ir.Return):
            if e.value is not None:
                self.eval(e.value, env)
            return False, None
        if isinstance(e, ir.Abort):
            self.eval(e.code, env)
            return False, None
        for child in _children(e):
            _, env = self.eval(child, env)
        return False, env

    def loop(self, e: ir.While | ir.Loop, env: _Fresh) -> _Fresh | None:
        """Run the body until the locals at its head stop changing (they only lose freshness)."""
        head: _Fresh = env
        while True:
            self.loop_exits.append(None)
            self.exit_labels.append((e.label, False))
            self.loop_continues.append(None)
            if isinstance(e, ir.While):
                _, after_cond = self.eval(e.cond, head)
                _, after = self.eval(e.body, after_cond)
                exits = _join(self.loop_exits.pop(), after_cond)
            else:
                _, after = self.eval(e.body, head)
                exits = self.loop_exits.pop()
            self.exit_labels.pop()
            joined = _join(_join(head, after), self.loop_continues.pop())
            assert joined is not None
            if joined == head:
                return exits
            head = joined


def _invalid_otw_field(struct: ir.StructDecl) -> tuple[Loc, bool] | None:
    """Where a one-time witness's fields go wrong: a first field that is not bool (False), or a
    second field (True); None when there are no fields or one bool."""
    if not struct.fields:
        return None
    first = struct.fields[0]
    if first.type != BOOL:
        return first.loc, False
    if len(struct.fields) > 1:
        return struct.fields[1].loc, True
    return None


def _tx_context_kind(ty: Type) -> str:
    """``mut``/``imm`` for ``&mut``/``&`` TxContext, ``owned`` for it by value, ``none`` otherwise."""
    inner = ty.inner if isinstance(ty, RefType) else ty
    if not (isinstance(inner, StructType) and inner.module == TX_CONTEXT and inner.name == "TxContext"):
        return "none"
    if isinstance(ty, RefType):
        return "mut" if ty.mutable else "imm"
    return "owned"


def _is_mut_clock(ty: Type) -> bool:
    if isinstance(ty, RefType):
        return ty.mutable and _is_mut_clock(ty.inner)
    return isinstance(ty, StructType) and ty.module == CLOCK and ty.name == "Clock"


def _walk(expr: ir.Expr) -> Iterator[ir.Expr]:
    """Every expression inside ``expr`` (itself first), in source order."""
    yield expr
    for child in _children(expr):
        yield from _walk(child)


def _children(expr: ir.Expr) -> list[ir.Expr]:
    if isinstance(expr, ir.Assign):
        return [expr.value]
    if isinstance(expr, ir.BorrowField):
        return [expr.ref]
    if isinstance(expr, ir.ReadRef | ir.FreezeRef):
        return [expr.ref]
    if isinstance(expr, ir.WriteRef):
        return [expr.ref, expr.value]
    if isinstance(expr, ir.Pack):
        return list(expr.fields)
    if isinstance(expr, ir.Unpack):
        return [expr.value]
    if isinstance(expr, ir.Call):
        return list(expr.args)
    if isinstance(expr, ir.Binary):
        return [expr.lhs, expr.rhs]
    if isinstance(expr, ir.Not | ir.Cast):
        return [expr.operand]
    if isinstance(expr, ir.VectorLit | ir.Tuple):
        return list(expr.items)
    if isinstance(expr, ir.Block):
        return [*expr.statements, *([expr.result] if expr.result is not None else [])]
    if isinstance(expr, ir.IfElse):
        return [expr.cond, expr.then, *([expr.otherwise] if expr.otherwise is not None else [])]
    if isinstance(expr, ir.While):
        return [expr.cond, expr.body]
    if isinstance(expr, ir.Loop | ir.LabeledBlock):
        return [expr.body]
    if isinstance(expr, ir.Break):
        return [expr.value] if expr.value is not None else []
    if isinstance(expr, ir.VariantTag):
        return [expr.ref]
    if isinstance(expr, ir.Return):
        return [expr.value] if expr.value is not None else []
    if isinstance(expr, ir.Abort):
        return [expr.code]
    return []
