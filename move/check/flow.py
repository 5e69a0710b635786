"""Move's rules about where values go, checked on a function's finished IR.

* Every read of a local needs it to hold a value on every path: a local that was moved
  (``Move``) or never assigned is "use of unassigned variable" (E06002).
* A value without ``drop`` must be consumed: a local that may still hold one when the
  function returns, or when it is assigned again, is E06001 ("unused value without
  'drop'"). ``abort`` ends a path without that obligation, as in Move.
* A function must not return a reference into its own locals (E07004), and a local may
  not be moved, assigned, copied or borrowed while a live reference into it forbids it
  (``move.check.borrows``, which says what of Move's borrow rules it leaves out).

The analysis is a forward data-flow over the structured IR: each local is unassigned,
assigned, or maybe (assigned on some paths); loops iterate to a fixed point.
"""

from __future__ import annotations

from collections.abc import Mapping

from move import ir
from move.check.body import children
from move.check.borrows import Borrows
from move.check.env import Env
from move.codes import diagnostic
from move.source import CompileError, Diagnostic, Loc
from move.types import Ability, RefType, TupleType, Type

UNASSIGNED, ASSIGNED, MAYBE = 0, 1, 2
State = tuple[int, ...]


def join(a: State | None, b: State | None) -> State | None:
    if a is None:
        return b
    if b is None:
        return a
    return tuple(x if x == y else MAYBE for x, y in zip(a, b))


class Flow:
    def __init__(
        self, env: Env, fun: ir.FunctionDecl, sources: Mapping[str, str], end: Loc | None = None
    ) -> None:
        self.end = end
        self.env = env
        self.fun = fun
        self.sources = sources
        self.types = [local.type for local in fun.locals]
        self.names = [local.name for local in fun.locals]
        self.droppable = [self.has_drop(t) for t in self.types]
        self.moved: set[int] = set()
        self.errors: dict[tuple[int, int, str], Diagnostic] = {}
        self.loops: list[tuple[str | None, list[State], list[State], bool]] = []
        """Loops and labeled blocks (the flag) that a branch may leave, innermost last."""

    def has_drop(self, t: Type) -> bool:
        return Ability.DROP in self.env.abilities(t, self.fun.type_params)

    def report(self, loc: Loc, code: str, detail: str) -> None:
        key = (loc.line, loc.col, detail)
        if key not in self.errors:
            self.errors[key] = diagnostic(loc, code, detail, self.sources)

    def use(self, state: State, local: int, loc: Loc) -> None:
        if state[local] != ASSIGNED:
            name = self.names[local]
            if local in self.moved:
                self.report(loc, "E06002", f"Invalid usage of previously moved variable '{name}'.")
            else:
                self.report(loc, "E06002", f"Invalid usage of unassigned variable '{name}'.")

    def assign(self, state: State, local: int, loc: Loc) -> State:
        if state[local] != UNASSIGNED and not self.droppable[local]:
            self.report(
                loc, "E06001",
                f"The variable '{self.names[local]}' still contains a value. The value does not have the "
                "'drop' ability and must be consumed before being reassigned",
            )  # fmt: skip
        return state[:local] + (ASSIGNED,) + state[local + 1 :]

    def exit_check(self, state: State, loc: Loc) -> None:
        for i, status in enumerate(state):
            if status != UNASSIGNED and not self.droppable[i]:
                name = self.names[i]
                what = "The local variable" if not name.startswith("%") else "A temporary value"
                shown = f" '{name}'" if not name.startswith("%") else ""
                self.report(
                    loc, "E06001",
                    f"{what}{shown} still contains a value. The value does not have the 'drop' ability and "
                    "must be consumed before the function returns",
                )  # fmt: skip

    def run(self) -> None:
        body = self.fun.body
        assert body is not None
        n_params = len(self.fun.params)
        state: State = tuple(ASSIGNED if i < n_params else UNASSIGNED for i in range(len(self.types)))
        end = self.walk(body, state)
        if end is not None:
            self.exit_check(end, self.end or _end_loc(body))
        self.check_returned_refs(body)
        for d in Borrows(self.fun, self.sources).run():
            self.errors.setdefault((d.loc.line, d.loc.col, d.message), d)
        if self.errors:
            raise CompileError(sorted(self.errors.values(), key=lambda d: (d.loc.line, d.loc.col)))

    # -- the walk --------------------------------------------------------------------------------

    def walk(self, e: ir.Expr, s: State | None) -> State | None:
        if s is None:
            return None
        if isinstance(e, ir.Const):
            return s
        if isinstance(e, ir.Copy | ir.BorrowLocal):
            self.use(s, e.local, e.loc)
            return s
        if isinstance(e, ir.Move):
            self.use(s, e.local, e.loc)
            self.moved.add(e.local)
            return s[: e.local] + (UNASSIGNED,) + s[e.local + 1 :]
        if isinstance(e, ir.Assign):
            out = self.walk(e.value, s)
            for local in e.locals:
                if out is not None and local is not None:
                    out = self.assign(out, local, e.loc)
            return out
        if isinstance(e, ir.Unpack):
            out = self.walk(e.value, s)
            for local in e.binds:
                if out is not None and local is not None:
                    out = self.assign(out, local, e.loc)
            return out
        if isinstance(e, ir.Binary) and e.op in (ir.BinOp.AND, ir.BinOp.OR):
            after_lhs = self.walk(e.lhs, s)
            return join(after_lhs, self.walk(e.rhs, after_lhs))
        if isinstance(e, ir.IfElse):
            after = self.walk(e.cond, s)
            then = self.walk(e.then, after)
            other = self.walk(e.otherwise, after) if e.otherwise is not None else after
            return join(then, other)
        if isinstance(e, ir.While | ir.Loop):
            return self.loop(e, s)
        if isinstance(e, ir.LabeledBlock):
            exits: list[State] = []
            self.loops.append((e.label, exits, [], True))
            try:
                end = self.walk(e.body, s)
            finally:
                self.loops.pop()
            for state in exits:
                end = join(end, state)
            return end
        if isinstance(e, ir.Break | ir.Continue):
            if isinstance(e, ir.Break) and e.value is not None:
                s = self.walk(e.value, s)
                if s is None:
                    return None
            for label, breaks, continues, block in reversed(self.loops):
                if (e.label is None and not block) or (e.label is not None and e.label == label):
                    (breaks if isinstance(e, ir.Break) else continues).append(s)
                    break
            return None
        if isinstance(e, ir.Return):
            out = self.walk(e.value, s) if e.value is not None else s
            if out is not None:
                self.exit_check(out, e.loc)
            return None
        if isinstance(e, ir.Abort):
            self.walk(e.code, s)
            return None
        if isinstance(e, ir.Block):
            cur: State | None = s
            for stmt in e.statements:
                cur = self.walk(stmt, cur)
            if e.result is not None:
                cur = self.walk(e.result, cur)
            return cur
        out = s
        for child in children(e):
            out = self.walk(child, out)
        return out

    def loop(self, e: ir.While | ir.Loop, s: State) -> State | None:
        entry = s
        for _ in range(len(s) * 2 + 4):
            breaks: list[State] = []
            continues: list[State] = []
            self.loops.append((e.label, breaks, continues, False))
            try:
                if isinstance(e, ir.While):
                    after_cond = self.walk(e.cond, entry)
                    end = self.walk(e.body, after_cond)
                else:
                    after_cond = None
                    end = self.walk(e.body, entry)
            finally:
                self.loops.pop()
            back: State | None = entry
            for c in [end, *continues]:
                back = join(back, c)
            if back == entry:
                exit_state: State | None = after_cond
                for b in breaks:
                    exit_state = join(exit_state, b)
                return exit_state
            assert back is not None
            entry = back
        raise AssertionError("loop analysis did not converge")

    # -- references --------------------------------------------------------------------------------

    def check_returned_refs(self, body: ir.Expr) -> None:
        params = {p.index for p in self.fun.params}
        ref_param = {i for i in params if isinstance(self.types[i], RefType)}
        origins: dict[int, set[int]] = {}

        def origin(e: ir.Expr | None) -> set[int]:
            if e is None:
                return set()
            if isinstance(e, ir.BorrowLocal):
                if e.local in ref_param:
                    return set()
                return {e.local}
            if isinstance(e, ir.Copy | ir.Move):
                if isinstance(self.types[e.local], RefType) and e.local not in ref_param:
                    return set(origins.get(e.local, set()))
                return set()
            if isinstance(e, ir.BorrowField | ir.FreezeRef):
                return origin(e.ref)
            if isinstance(e, ir.Call):
                out: set[int] = set()
                for a in e.args:
                    if isinstance(a.ty, RefType):
                        out |= origin(a)
                return out
            if isinstance(e, ir.Block):
                return origin(e.result)
            if isinstance(e, ir.LabeledBlock | ir.Loop):
                # the body's value, or any `return 'label v` / `break v` leaving it
                out = origin(e.body) if isinstance(e, ir.LabeledBlock) else set()
                for node in _all(e.body):
                    if isinstance(node, ir.Break) and node.value is not None:
                        out |= origin(node.value)
                return out
            if isinstance(e, ir.IfElse):
                return origin(e.then) | origin(e.otherwise)
            if isinstance(e, ir.Tuple):
                out = set()
                for i in e.items:
                    out |= origin(i)
                return out
            return set()

        nodes = list(_all(body))
        changed = True
        while changed:
            changed = False
            for node in nodes:
                if isinstance(node, ir.Assign):
                    sources = origin(node.value)
                    items = node.value.items if isinstance(node.value, ir.Tuple) else None
                    for k, local in enumerate(node.locals):
                        if local is None or not isinstance(self.types[local], RefType):
                            continue
                        src = origin(items[k]) if items is not None and k < len(items) else sources
                        if not src <= origins.get(local, set()):
                            origins[local] = origins.get(local, set()) | src
                            changed = True
                if isinstance(node, ir.Unpack) and node.by_ref:
                    src = origin(node.value)
                    for local in node.binds:
                        if local is not None and not src <= origins.get(local, set()):
                            origins[local] = origins.get(local, set()) | src
                            changed = True
        returned: list[ir.Expr] = [n.value for n in nodes if isinstance(n, ir.Return) and n.value is not None]
        returned.append(body.result if isinstance(body, ir.Block) and body.result is not None else body)
        for value in returned:
            if not _has_ref(value.ty):
                continue
            bad = sorted(origin(value))
            if bad:
                self.report(
                    value.loc, "E07004",
                    f"Invalid return. Local variable '{self.names[bad[0]]}' is still being borrowed.",
                )  # fmt: skip


def _has_ref(t: Type) -> bool:
    if isinstance(t, RefType):
        return True
    return isinstance(t, TupleType) and any(isinstance(i, RefType) for i in t.items)


def _all(e: ir.Expr) -> list[ir.Expr]:
    out = []
    stack = [e]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(children(node))
    return out


def _end_loc(body: ir.Expr) -> Loc:
    if isinstance(body, ir.Block) and body.result is not None:
        return body.result.loc
    return body.loc
