"""Borrow rules on a local's own storage: what Move refuses while a reference into a local is live.

A reference stored in a local is *live* where it may still be read. While a live reference
points into a local ``x`` (not itself a reference), Move refuses:

* moving ``x`` or assigning it (E07003, "Invalid move of variable 'x'" /
  "Invalid assignment of variable 'x'"): the reference would dangle;
* copying ``x`` or borrowing it immutably while the live reference is mutable (E07002
  "Invalid copy of variable 'x'", E07001 "Invalid borrow of variable 'x'").

References are traced to the locals they point into through borrows, field borrows,
freezes, copies and calls (a call's reference result points where its reference
arguments point, its mutable result only where the mutable ones do), flow-sensitively;
liveness comes from a backward pass. What is not checked: references that live only
inside an expression (``f(&mut x, copy x)``), conflicts between two references reached
through the same reference parameter, and writes through a mutable reference while
another reference to the same place is live. Move's own checker tracks those with a full
borrow graph.
"""

from __future__ import annotations

from collections.abc import Mapping

from move import ir
from move.check.body import children
from move.codes import diagnostic
from move.source import Diagnostic
from move.types import RefType, TupleType

Roots = frozenset[tuple[int, bool]]
"""The locals a reference may point into, each with whether the reference is mutable."""
State = dict[int, Roots]


class Borrows:
    def __init__(self, fun: ir.FunctionDecl, sources: Mapping[str, str]) -> None:
        self.fun = fun
        self.sources = sources
        self.is_ref = [isinstance(local.type, RefType) for local in fun.locals]
        self.names = [local.name for local in fun.locals]
        self.live_after: dict[int, set[int]] = {}
        self.frames: list[tuple[str | None, frozenset[int], frozenset[int], bool]] = []
        self.loops: list[tuple[str | None, list[State], list[State], bool]] = []
        """Loops and labeled blocks (the flag) a branch may leave, innermost last."""
        self.errors: dict[tuple[int, int, str], Diagnostic] = {}

    def run(self) -> list[Diagnostic]:
        body = self.fun.body
        assert body is not None
        if not any(self.is_ref):
            return []
        self.live(body, frozenset())
        self.walk(body, {})
        return sorted(self.errors.values(), key=lambda d: (d.loc.line, d.loc.col))

    # -- liveness (backward) ---------------------------------------------------------------------

    def note(self, node: ir.Expr, after: frozenset[int]) -> None:
        self.live_after.setdefault(id(node), set()).update(after)

    def live(self, e: ir.Expr, after: frozenset[int]) -> frozenset[int]:
        if isinstance(e, ir.Copy | ir.Move):
            self.note(e, after)
            return after | {e.local} if self.is_ref[e.local] else after
        if isinstance(e, ir.BorrowLocal):
            self.note(e, after)
            return after
        if isinstance(e, ir.Assign):
            self.note(e, after)
            return self.live(e.value, after - {x for x in e.locals if x is not None})
        if isinstance(e, ir.Unpack):
            self.note(e, after)
            return self.live(e.value, after - {x for x in e.binds if x is not None})
        if isinstance(e, ir.Block):
            cur = after
            if e.result is not None:
                cur = self.live(e.result, cur)
            for stmt in reversed(e.statements):
                cur = self.live(stmt, cur)
            return cur
        if isinstance(e, ir.IfElse):
            then = self.live(e.then, after)
            other = self.live(e.otherwise, after) if e.otherwise is not None else after
            return self.live(e.cond, then | other)
        if isinstance(e, ir.Binary) and e.op in (ir.BinOp.AND, ir.BinOp.OR):
            return self.live(e.lhs, after | self.live(e.rhs, after))
        if isinstance(e, ir.While | ir.Loop):
            head: frozenset[int] = frozenset()
            while True:
                self.frames.append((e.label, after, head, False))
                try:
                    body = self.live(e.body, head)
                    new = self.live(e.cond, after | body) if isinstance(e, ir.While) else body
                finally:
                    self.frames.pop()
                if new <= head:
                    return head
                head = head | new
        if isinstance(e, ir.LabeledBlock):
            self.frames.append((e.label, after, frozenset(), True))
            try:
                return self.live(e.body, after)
            finally:
                self.frames.pop()
        if isinstance(e, ir.Break | ir.Continue):
            for label, breaks, continues, block in reversed(self.frames):
                if (e.label is None and not block) or (e.label is not None and e.label == label):
                    target = breaks if isinstance(e, ir.Break) else continues
                    if isinstance(e, ir.Break) and e.value is not None:
                        return self.live(e.value, target)
                    return target
            return frozenset()
        if isinstance(e, ir.Return):
            return self.live(e.value, frozenset()) if e.value is not None else frozenset()
        if isinstance(e, ir.Abort):
            return self.live(e.code, frozenset())
        cur = after
        for child in reversed(children(e)):
            cur = self.live(child, cur)
        return cur

    # -- roots (forward) and the checks ----------------------------------------------------------

    def origin(self, e: ir.Expr | None, state: State) -> Roots:
        if e is None:
            return frozenset()
        if isinstance(e, ir.BorrowLocal):
            return frozenset({(e.local, e.mutable)})
        if isinstance(e, ir.Copy | ir.Move):
            return state.get(e.local, frozenset()) if self.is_ref[e.local] else frozenset()
        if isinstance(e, ir.BorrowField):
            return frozenset((root, e.mutable) for root, _ in self.origin(e.ref, state))
        if isinstance(e, ir.FreezeRef):
            return frozenset((root, False) for root, _ in self.origin(e.ref, state))
        if isinstance(e, ir.Call):
            mutable = isinstance(e.ty, RefType) and e.ty.mutable
            out: set[tuple[int, bool]] = set()
            for a in e.args:
                if isinstance(a.ty, RefType) and (a.ty.mutable or not mutable):
                    out |= {(root, mutable) for root, _ in self.origin(a, state)}
            return frozenset(out)
        if isinstance(e, ir.Block):
            return self.origin(e.result, state)
        if isinstance(e, ir.IfElse):
            return self.origin(e.then, state) | self.origin(e.otherwise, state)
        return frozenset()

    def conflict(
        self, node: ir.Expr, local: int, state: State, only_mutable: bool, code: str, verb: str
    ) -> None:
        for r in sorted(self.live_after.get(id(node), set())):
            if r == local:
                continue
            for root, mutable in state.get(r, frozenset()):
                if root == local and (mutable or not only_mutable):
                    name = self.names[local]
                    detail = f"Invalid {verb} of variable '{name}'. It is still being {'mutably ' if mutable else ''}borrowed by '{self.names[r]}'"
                    key = (node.loc.line, node.loc.col, detail)
                    self.errors.setdefault(key, diagnostic(node.loc, code, detail, self.sources))
                    return

    def bind(self, state: State, local: int | None, roots: Roots, node: ir.Expr) -> None:
        if local is None:
            return
        if self.is_ref[local]:
            state[local] = roots
        else:
            self.conflict(node, local, state, False, "E07003", "assignment")

    def walk(self, e: ir.Expr, s: State | None) -> State | None:
        if s is None:
            return None
        if isinstance(e, ir.Move) and not self.is_ref[e.local]:
            self.conflict(e, e.local, s, False, "E07003", "move")
            return s
        if isinstance(e, ir.Copy) and not self.is_ref[e.local]:
            self.conflict(e, e.local, s, True, "E07002", "copy")
            return s
        if isinstance(e, ir.BorrowLocal):
            if not e.mutable:
                self.conflict(e, e.local, s, True, "E07001", "borrow")
            return s
        if isinstance(e, ir.Assign):
            out = self.walk(e.value, s)
            if out is None:
                return None
            items = e.value.items if isinstance(e.value, ir.Tuple) else None
            whole = self.origin(e.value, out)
            out = dict(out)
            for k, local in enumerate(e.locals):
                roots = self.origin(items[k], out) if items is not None and k < len(items) else whole
                if isinstance(e.value.ty, TupleType) and items is None:
                    roots = whole
                self.bind(out, local, roots, e)
            return out
        if isinstance(e, ir.Unpack):
            out = self.walk(e.value, s)
            if out is None:
                return None
            roots = (
                frozenset((root, e.mutable) for root, _ in self.origin(e.value, out))
                if e.by_ref
                else frozenset()
            )
            out = dict(out)
            for local in e.binds:
                self.bind(out, local, roots, e)
            return out
        if isinstance(e, ir.Binary) and e.op in (ir.BinOp.AND, ir.BinOp.OR):
            after_lhs = self.walk(e.lhs, s)
            return _join(after_lhs, self.walk(e.rhs, after_lhs))
        if isinstance(e, ir.IfElse):
            after = self.walk(e.cond, s)
            then = self.walk(e.then, after)
            other = self.walk(e.otherwise, after) if e.otherwise is not None else after
            return _join(then, other)
        if isinstance(e, ir.While | ir.Loop):
            entry: State = s
            for _ in range(64):
                breaks: list[State] = []
                continues: list[State] = []
                self.loops.append((e.label, breaks, continues, False))
                try:
                    after_cond = self.walk(e.cond, entry) if isinstance(e, ir.While) else None
                    end = self.walk(e.body, after_cond if isinstance(e, ir.While) else entry)
                finally:
                    self.loops.pop()
                back: State | None = entry
                for c in [end, *continues]:
                    back = _join(back, c)
                assert back is not None
                if back == entry:
                    exit_state = after_cond
                    for b in breaks:
                        exit_state = _join(exit_state, b)
                    return exit_state
                entry = back
            return entry
        if isinstance(e, ir.LabeledBlock):
            exits: list[State] = []
            self.loops.append((e.label, exits, [], True))
            try:
                end = self.walk(e.body, s)
            finally:
                self.loops.pop()
            for state in exits:
                end = _join(end, state)
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
            if e.value is not None:
                self.walk(e.value, s)
            return None
        if isinstance(e, ir.Abort):
            self.walk(e.code, s)
            return None
        out2: State | None = s
        for child in children(e):
            out2 = self.walk(child, out2)
        return out2


def _join(a: State | None, b: State | None) -> State | None:
    if a is None:
        return b
    if b is None:
        return a
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, frozenset()) | v
    return out
