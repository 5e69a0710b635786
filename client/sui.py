"""What ``sui client`` does, against a subnet: build, sign and send transactions, read objects.

``SuiClient`` wraps an ``Agent`` and an identity (whose Sui address is BLAKE2b-256 over
0x00 and its Ed25519 public key). Transactions are Sui's programmable transactions,
signed under the transaction intent, and take one of two paths (``execute``):

- without shared inputs (owned and immutable objects, publishing, upgrading): the fast
  path (``client.fast_path``): votes of 2f+1 replicas make a certificate, 2f+1 replicas
  execute it at once and sign the effects, which is finality; consensus sequences it
  afterwards;
- with shared inputs: consensus. Owned inputs are certified first (the votes lock them),
  then the certificate is ordered; a transaction of shared objects only goes bare.

Either way the answer is the transaction's JSON response (``digest``, ``effects``,
``objectChanges``, ``events``) that the replicas computed, with ``path`` (``fast`` or
``consensus``) and ``latencyMs`` added. Reads (``object``, ``objects``) take the
queries' fast path and are signed by the replica that answered.

``call`` encodes ``--args`` the way the Sui CLI does: it asks a replica for the function's
normalized signature (``sui_getNormalizedMoveFunction``) and reads each argument as the
parameter's type wants it: numbers (or decimal strings) for integers, ``true``/``false``,
text for strings and ``vector<u8>``, ``0x…`` or ``@0x…`` for addresses and IDs, ``[…]``
for vectors, ``null`` or a value for options, and an object id for an object parameter
(looked up to pass it shared, owned or immutable at its current version). A trailing
``&TxContext`` is supplied by the runtime, as in Sui.

Transactions carry no gas coins (there are none on this subnet): like the TypeScript SDK
in that case, the client sets ``ValidDuring`` with a random nonce, so that two otherwise
equal transactions are two transactions, not a replay.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Sequence
from typing import Any

from client import fast_path
from client.agent import Agent
from client.identity import Identity
from move.compat import Problem, check_upgrade, report
from vocab.errors import RejectCode, RejectError, SubnetError, SuiError
from vocab.sui.address import FRAMEWORK_PACKAGES, SUI_PACKAGE, ObjectId, SuiAddress
from vocab.sui.builder import ProgrammableTransactionBuilder
from vocab.sui.digests import Digest, package_digest
from vocab.sui.objects import ObjectRef
from vocab.sui.pure import encode_pure, pure_schema
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    DEFAULT_GAS_BUDGET,
    REFERENCE_GAS_PRICE,
    Argument,
    GasData,
    ImmOrOwnedObject,
    ProgrammableTransaction,
    SharedObject,
    TransactionData,
    ValidDuring,
)
from vocab.sui.type_tag import PrimitiveTag, StructTag, TypeTag, TypeTagError, VectorTag, parse_type_tag

FRAMEWORK = FRAMEWORK_PACKAGES
"""The packages every package depends on (``0x1`` MoveStdlib and ``0x2`` Sui)."""


class ArgumentError(SubnetError, ValueError):
    """A command-line argument that does not fit the parameter it is for."""


class IncompatibleUpgrade(SubnetError):
    """An upgrade the capability's policy refuses, found before sending (``move.compat``);
    the message lists each problem with Sui's kind names, as ``sui client upgrade`` does."""

    def __init__(self, problems: list[Problem], policy: int) -> None:
        super().__init__(report(problems, policy))
        self.problems = problems
        self.policy = policy


class SuiClient:
    def __init__(self, agent: Agent, identity: Identity, *, budget: int = DEFAULT_GAS_BUDGET) -> None:
        self.agent = agent
        self.identity = identity
        self.budget = budget

    @property
    def address(self) -> SuiAddress:
        return self.identity.sui_address

    # -- transactions ------------------------------------------------------------------------
    def transaction(self, kind: ProgrammableTransaction) -> TransactionData:
        """``kind`` from this identity, with the budget and a fresh nonce."""
        return TransactionData(
            kind,
            self.address,
            GasData((), self.address, REFERENCE_GAS_PRICE, self.budget),
            ValidDuring(None, None, None, None, Digest(bytes(32)), secrets.randbits(32)),
        )

    async def execute(self, signed: SignedTransaction, timeout: float = 60.0) -> dict[str, Any]:
        """Send a signed transaction on its path (see the module's docstring); its JSON
        response with ``path`` and ``latencyMs``. A transaction refused before it ran raises
        ``RejectError`` whose ``error_code`` is Sui's name for the refusal; one that ran and
        aborted answers with a failure status."""
        tx = signed.transaction()
        shared = any(isinstance(arg, SharedObject) for arg in tx.kind.inputs)
        owned = any(isinstance(arg, ImmOrOwnedObject) for arg in tx.kind.inputs)
        started = time.perf_counter()
        try:
            if not shared:
                certificate = await fast_path.certify(self.agent, signed)
                finality = await fast_path.execute(self.agent, certificate)
                reply, path = finality.response, "fast"
            else:
                message = await fast_path.certify(self.agent, signed) if owned else signed
                result = await self.agent.submit_and_wait(message, timeout)
                reply, path = result.raise_if_rejected(), "consensus"
        except SuiError as error:
            raise RejectError(RejectCode.SYS_FATAL, error.message, error.name) from None
        answer: dict[str, Any] = json.loads(reply)
        answer["path"] = path
        answer["latencyMs"] = round((time.perf_counter() - started) * 1000, 1)
        return answer

    async def sign_and_execute(self, kind: ProgrammableTransaction) -> dict[str, Any]:
        return await self.execute(SignedTransaction.sign(self.transaction(kind), [self.identity.key]))

    async def publish(
        self, modules: Sequence[bytes], dependencies: Sequence[ObjectId] = FRAMEWORK
    ) -> dict[str, Any]:
        """Publish compiled modules and give the ``UpgradeCap`` to the sender, as ``sui
        client publish`` builds it: ``Publish`` then ``TransferObjects``."""
        builder = ProgrammableTransactionBuilder()
        cap = builder.publish(modules, dependencies)
        builder.transfer_objects([cap], self.address)
        return await self.sign_and_execute(builder.finish())

    async def transfer(self, object_id: ObjectId, recipient: SuiAddress) -> dict[str, Any]:
        """``sui client transfer``: move an owned ``key + store`` object to ``recipient``."""
        builder = ProgrammableTransactionBuilder()
        obj = await self._object_input(builder, object_id, mutable=True)
        builder.transfer_objects([obj], recipient)
        return await self.sign_and_execute(builder.finish())

    async def call(
        self,
        package: ObjectId,
        module: str,
        function: str,
        args: Sequence[str] = (),
        type_args: Sequence[str] = (),
    ) -> dict[str, Any]:
        """``sui client call``: one ``MoveCall`` with ``args`` read as the parameters' types."""
        types = [_type_arg(text) for text in type_args]
        signature = await self.agent.sui_read(
            "sui_getNormalizedMoveFunction", [package.to_text(), module, function]
        )
        parameters = list(signature["parameters"])
        if parameters and _is_tx_context(parameters[-1]):
            parameters.pop()
        if len(signature["typeParameters"]) != len(types):
            raise ArgumentError(
                f"{module}::{function} takes {len(signature['typeParameters'])} type arguments, "
                f"{len(types)} given"
            )
        if len(parameters) != len(args):
            raise ArgumentError(f"{module}::{function} takes {len(parameters)} arguments, {len(args)} given")
        builder = ProgrammableTransactionBuilder()
        arguments: list[Argument] = []
        for position, (parameter, text) in enumerate(zip(parameters, args, strict=True), start=1):
            arguments.append(await self._argument(builder, parameter, types, text, position))
        builder.move_call(package, module, function, types, arguments)
        return await self.sign_and_execute(builder.finish())

    async def _argument(
        self,
        builder: ProgrammableTransactionBuilder,
        parameter: Any,
        types: list[TypeTag],
        text: str,
        position: int,
    ) -> Argument:
        inner, mutable = parameter, True
        if isinstance(parameter, dict) and ("Reference" in parameter or "MutableReference" in parameter):
            mutable = "MutableReference" in parameter
            inner = parameter.get("MutableReference", parameter.get("Reference"))
        tag = _type_tag(inner, types)
        if not _is_pure(tag):
            return await self._object_input(builder, _object_id(text, position), mutable=mutable)
        try:
            return builder.pure(tag, _pure_value(tag, _cli_value(text)))
        except (ValueError, TypeError, OverflowError, SubnetError) as exc:
            raise ArgumentError(f"argument {position} ({text!r}) is not a {tag}: {exc}") from None

    async def _object_input(
        self, builder: ProgrammableTransactionBuilder, object_id: ObjectId, *, mutable: bool
    ) -> Argument:
        found = await self.object(object_id)
        data = found.get("data")
        if data is None:
            error = found.get("error", {})
            raise RejectError(
                RejectCode.SYS_FATAL,
                f"object {object_id} {'was deleted' if error.get('code') == 'deleted' else 'does not exist'}",
                "ObjectNotFound",
            )
        owner = data["owner"]
        if isinstance(owner, dict) and "Shared" in owner:
            return builder.object(
                SharedObject(object_id, int(owner["Shared"]["initial_shared_version"]), mutable)
            )
        ref = ObjectRef(object_id, int(data["version"]), Digest.from_text(data["digest"]))
        return builder.object(ImmOrOwnedObject(ref))

    async def upgrade(
        self,
        modules: Sequence[bytes],
        upgrade_capability: ObjectId,
        dependencies: Sequence[ObjectId] = FRAMEWORK,
        *,
        check: bool = True,
    ) -> dict[str, Any]:
        """``sui client upgrade``: check the new modules against the package the capability
        controls, under its policy (``move.compat``; ``IncompatibleUpgrade`` names every
        problem, unless ``check`` is off and the subnet judges), then send authorize →
        ``Upgrade`` → commit in one transaction."""
        found = await self.object(upgrade_capability)
        cap = found.get("data")
        if cap is None or not str(cap.get("type", "")).endswith("::package::UpgradeCap"):
            raise RejectError(
                RejectCode.SYS_FATAL, f"{upgrade_capability} is not an UpgradeCap", "InvalidUpgradeCapability"
            )
        fields = cap["content"]["fields"]
        package, policy = ObjectId.from_text(fields["package"]), int(fields["policy"])
        if check:
            current = await self.agent.sui_read("sui_getObject", [package.to_text(), {"showBcs": True}])
            old = [base64.b64decode(text) for text in current["data"]["bcs"]["moduleMap"].values()]
            problems = check_upgrade(old, modules, policy)
            if problems:
                raise IncompatibleUpgrade(problems, policy)
        ref = ObjectRef(upgrade_capability, int(cap["version"]), Digest.from_text(cap["digest"]))
        builder = ProgrammableTransactionBuilder()
        digest = package_digest(modules, (dependency.raw for dependency in dependencies))
        builder.upgrade_with_cap(ImmOrOwnedObject(ref), package, modules, dependencies, policy, digest)
        return await self.sign_and_execute(builder.finish())

    # -- reads -------------------------------------------------------------------------------
    async def object(self, object_id: ObjectId, replicas_agree: int = 1) -> dict[str, Any]:
        """``sui client object``: ``{"data": {...}}``, or ``{"error": {"code": ...}}``."""
        answer: dict[str, Any] = await self.agent.sui_read(
            "sui_getObject", [object_id.to_text()], replicas_agree
        )
        return answer

    async def objects(self, owner: SuiAddress, replicas_agree: int = 1) -> list[dict[str, Any]]:
        """``sui client objects``: the objects ``owner`` holds, by id."""
        answer = await self.agent.sui_read("suix_getOwnedObjects", [owner.to_text()], replicas_agree)
        return [entry["data"] for entry in answer["data"]]

    async def transaction_block(self, digest: Digest) -> dict[str, Any]:
        answer: dict[str, Any] = await self.agent.sui_read("sui_getTransactionBlock", [digest.to_text()])
        return answer


# -- arguments ------------------------------------------------------------------------------------


def _is_tx_context(parameter: Any) -> bool:
    if not isinstance(parameter, dict):
        return False
    inner = parameter.get("MutableReference", parameter.get("Reference"))
    struct = inner.get("Struct") if isinstance(inner, dict) else None
    return (
        struct is not None
        and ObjectId.from_text(struct["address"]) == SUI_PACKAGE
        and (struct["module"], struct["name"]) == ("tx_context", "TxContext")
    )


def _type_arg(text: str) -> TypeTag:
    try:
        return parse_type_tag(text)
    except TypeTagError as exc:
        raise ArgumentError(f"type argument {text!r}: {exc}") from None


def _type_tag(normalized: Any, types: list[TypeTag]) -> TypeTag:
    """A normalized type (``sui_getNormalizedMoveFunction``) as a type tag, with the
    function's type parameters replaced by the given type arguments."""
    if isinstance(normalized, str):
        return PrimitiveTag(normalized.lower())
    if "Vector" in normalized:
        return VectorTag(_type_tag(normalized["Vector"], types))
    if "TypeParameter" in normalized:
        return types[int(normalized["TypeParameter"])]
    if "Struct" in normalized:
        struct = normalized["Struct"]
        return StructTag(
            SuiAddress.from_text(struct["address"]),
            struct["module"],
            struct["name"],
            tuple(_type_tag(arg, types) for arg in struct["typeArguments"]),
        )
    raise ArgumentError(f"a parameter of type {normalized} cannot be passed from the command line")


def _is_pure(tag: TypeTag) -> bool:
    """Whether an argument of this type is passed as pure bytes (else it is an object)."""
    try:
        pure_schema(tag)
    except TypeTagError:
        return False
    return True


def _cli_value(text: str) -> Any:
    """An argument as typed: JSON when it parses (numbers, ``true``, ``[1, 2]``, ``"x"``,
    ``null``), ``@0x…`` as the address text, anything else as text."""
    if text.startswith("@"):
        return text[1:]
    try:
        return json.loads(text)
    except ValueError:
        return text


def _object_id(text: str, position: int) -> ObjectId:
    try:
        return ObjectId.from_text(text.removeprefix("@"))
    except (ValueError, SubnetError) as exc:
        raise ArgumentError(f"argument {position} must be an object id (0x…), not {text!r}: {exc}") from None


def _pure_value(tag: TypeTag, value: Any) -> Any:
    """``value`` (from ``_cli_value``) as the Python value ``encode_pure`` takes for ``tag``."""
    if isinstance(tag, PrimitiveTag):
        if tag.name == "bool":
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if tag.name == "address":
            return SuiAddress.from_text(str(value))
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError("expected a number")
        number = int(value)
        bits = int(tag.name[1:])
        if not 0 <= number < 1 << bits:
            raise ValueError(f"{number} does not fit in {tag.name}")
        return number
    if isinstance(tag, VectorTag):
        if tag.element == PrimitiveTag("u8") and isinstance(value, str):
            return value.encode("utf-8")
        if not isinstance(value, list):
            raise ValueError("expected a [..] vector")
        items = [_pure_value(tag.element, item) for item in value]
        return bytes(items) if tag.element == PrimitiveTag("u8") else items
    assert isinstance(tag, StructTag)
    if tag.name == "String":
        if not isinstance(value, str):
            value = json.dumps(value)
        return value
    if tag.name == "ID":
        return ObjectId.from_text(str(value))
    # Option<T>
    if value is None or value == []:
        return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return _pure_value(tag.type_params[0], value)


def encode_argument(tag: TypeTag, text: str) -> bytes:
    """A command-line argument as the pure bytes of ``tag`` (what ``call`` sends)."""
    return encode_pure(tag, _pure_value(tag, _cli_value(text)))


__all__ = ["FRAMEWORK", "ArgumentError", "IncompatibleUpgrade", "SuiClient", "encode_argument"]
