"""Building a programmable transaction the way Sui's ``ProgrammableTransactionBuilder``
does: inputs are added as commands use them, identical pure values share one input and an
object used twice is one input (mutable if any use is), and each command's result is an
argument for the later ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vocab.sui.address import SUI_PACKAGE, ObjectId, SuiAddress
from vocab.sui.pure import encode_pure
from vocab.sui.transaction import (
    Argument,
    CallArg,
    Command,
    ImmOrOwnedObject,
    Input,
    MakeMoveVec,
    MoveCall,
    ObjectArg,
    ProgrammableTransaction,
    Publish,
    Pure,
    Receiving,
    Result,
    SharedObject,
    TransferObjects,
    Upgrade,
)
from vocab.sui.type_tag import ADDRESS_TAG, U8, TypeTag, VectorTag, check_identifier

MAX_INPUTS = 2**16
"""Input and result indexes are u16."""


class ProgrammableTransactionBuilder:
    def __init__(self) -> None:
        self.inputs: list[CallArg] = []
        self.commands: list[Command] = []
        self._pure: dict[bytes, int] = {}
        self._objects: dict[ObjectId, int] = {}

    def _add(self, arg: CallArg) -> Input:
        if len(self.inputs) >= MAX_INPUTS:
            raise ValueError(f"a transaction has at most {MAX_INPUTS} inputs")
        self.inputs.append(arg)
        return Input(len(self.inputs) - 1)

    def pure_bytes(self, data: bytes) -> Input:
        """A pure input holding ``data`` (BCS); the same bytes twice are one input."""
        index = self._pure.get(data)
        if index is not None:
            return Input(index)
        argument = self._add(Pure(bytes(data)))
        self._pure[bytes(data)] = argument.index
        return argument

    def pure(self, tag: TypeTag, value: Any) -> Input:
        """A pure input: ``value`` as the BCS of Move type ``tag`` (``vocab.sui.pure``)."""
        return self.pure_bytes(encode_pure(tag, value))

    def object(self, arg: ObjectArg) -> Input:
        """An object input; a shared object used again becomes mutable if either use is."""
        object_id = arg.ref.object_id if isinstance(arg, (ImmOrOwnedObject, Receiving)) else arg.object_id
        index = self._objects.get(object_id)
        if index is None:
            argument = self._add(arg)
            self._objects[object_id] = argument.index
            return argument
        previous = self.inputs[index]
        if isinstance(previous, SharedObject) and isinstance(arg, SharedObject):
            merged = SharedObject(object_id, previous.initial_shared_version, previous.mutable or arg.mutable)
            self.inputs[index] = merged
        elif previous != arg:
            raise ValueError(f"object {object_id} is passed twice, as {previous} and as {arg}")
        return Input(index)

    def command(self, command: Command) -> Result:
        if len(self.commands) >= MAX_INPUTS:
            raise ValueError(f"a transaction has at most {MAX_INPUTS} commands")
        self.commands.append(command)
        return Result(len(self.commands) - 1)

    def move_call(
        self,
        package: ObjectId,
        module: str,
        function: str,
        type_arguments: Sequence[TypeTag] = (),
        arguments: Sequence[Argument] = (),
    ) -> Result:
        check_identifier(module, "module name")
        check_identifier(function, "function name")
        return self.command(MoveCall(package, module, function, tuple(type_arguments), tuple(arguments)))

    def transfer_objects(self, objects: Sequence[Argument], recipient: SuiAddress) -> Result:
        return self.command(TransferObjects(tuple(objects), self.pure(ADDRESS_TAG, recipient)))

    def make_move_vec(self, type_: TypeTag | None, elements: Sequence[Argument]) -> Result:
        return self.command(MakeMoveVec(type_, tuple(elements)))

    def publish(self, modules: Sequence[bytes], dependencies: Sequence[ObjectId]) -> Result:
        """Publish a package; the result is its ``UpgradeCap``."""
        return self.command(Publish(tuple(modules), tuple(dependencies)))

    def upgrade(
        self, package: ObjectId, ticket: Argument, dependencies: Sequence[ObjectId], modules: Sequence[bytes]
    ) -> Result:
        """The ``Upgrade`` command of ``package`` (its latest version) with an
        ``UpgradeTicket``; the result is the ``UpgradeReceipt``."""
        return self.command(Upgrade(tuple(modules), tuple(dependencies), package, ticket))

    def upgrade_with_cap(
        self,
        cap: ImmOrOwnedObject,
        package: ObjectId,
        modules: Sequence[bytes],
        dependencies: Sequence[ObjectId],
        policy: int,
        digest: bytes,
    ) -> Result:
        """What ``sui client upgrade`` sends (Sui's ``TransactionData::new_upgrade``):
        ``0x2::package::authorize_upgrade(cap, policy, digest)``, ``Upgrade`` with the
        ticket, ``0x2::package::commit_upgrade(cap, receipt)``."""
        cap_arg = self.object(cap)
        ticket = self.move_call(
            SUI_PACKAGE,
            "package",
            "authorize_upgrade",
            (),
            (cap_arg, self.pure(U8, policy), self.pure(VectorTag(U8), digest)),
        )
        receipt = self.upgrade(package, ticket, dependencies, modules)
        return self.move_call(SUI_PACKAGE, "package", "commit_upgrade", (), (cap_arg, receipt))

    def finish(self) -> ProgrammableTransaction:
        return ProgrammableTransaction(tuple(self.inputs), tuple(self.commands))


__all__ = ["MAX_INPUTS", "ProgrammableTransactionBuilder"]
