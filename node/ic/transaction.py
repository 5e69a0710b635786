"""A message's changes to a canister, kept or undone as one.

Every execution that may fail half-way (an update, a query, an inspection, a system task,
an upgrade) opens one :func:`message_transaction` over the canister's instance and stable
memory: the heap and globals roll back through the instance's dirty-page machinery and the
stable memory through its undo log, unless the message commits. The message's other
effects (reply, certified data, global timer, cycles) are staged in its
:class:`~node.ic.system_api.ApiContext` and reach the canister only through
:func:`apply_effects` after a commit, so a rollback has nothing else to undo.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from node.ic.canister import CanisterInstance, CanisterState
from node.ic.stable_memory import StableMemory
from node.ic.system_api import ApiContext


class MessageTransaction:
    """The open transaction of one message; :meth:`commit` keeps its changes."""

    def __init__(self, instance: CanisterInstance, stable: StableMemory) -> None:
        self.instance = instance
        self.stable = stable
        self.committed = False

    def commit(self) -> None:
        assert not self.committed, "a message commits once"
        self.instance.commit()
        self.stable.commit()
        self.committed = True


@contextmanager
def message_transaction(instance: CanisterInstance, stable: StableMemory) -> Iterator[MessageTransaction]:
    """Heap, globals and stable memory of ``instance`` as one transaction.

    Leaving the block without :meth:`MessageTransaction.commit` (a trap, any exception, or
    a query that never commits) rolls all three back.
    """
    stable.begin()
    transaction = MessageTransaction(instance, stable)
    try:
        yield transaction
    finally:
        if not transaction.committed:
            instance.rollback()
            stable.rollback()


def apply_effects(canister: CanisterState, ctx: ApiContext) -> None:
    """A committed message's staged effects: cycles, certified data, global timer."""
    canister.cycles = ctx.balance
    if ctx.new_certified_data is not None:
        canister.certified_data = ctx.new_certified_data
    if ctx.new_global_timer is not None:
        canister.global_timer = ctx.new_global_timer
