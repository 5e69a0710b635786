"""The fast path's execution: certificates executed at once, on a layer over the sequenced store.

A replica executes a certificate of owned objects the moment it receives it (Sui Lutris),
but its replicated state, the one whose hash 2f+1 replicas certify at each height, may
only change in consensus order: replicas receive certificates at different times, and a
state hash that depended on when would diverge. So the replica keeps two views:

- the *sequenced* store (``ObjectStore``): what finalized blocks executed, in block order;
  hashed, certified and checkpointed;
- the *fast view* (``LayeredStore``): the sequenced store with the writes of certificates
  executed here but not yet sequenced layered over it. Votes check inputs against it,
  certificates execute on it, and reads answer from it (what a Sui full node shows).

Why this is safe: an owned-only certificate's inputs are owned object versions locked to
it by a quorum (no other transaction can consume them), immutable objects and packages
(which never change); what it writes is new versions of those objects and objects whose
ids derive from its digest. Executing it later, in block order, reads the same bytes and
so writes the same bytes. When a block sequences a certificate this replica already
executed, the recorded writes are committed to the sequenced store as they are
(``take``), which is what executing it again would give; replicas that had not executed it
execute it then. Either way every replica's sequenced store is the same at every height.

A fast execution is undone only if consensus sequenced a conflicting transaction first,
which the locks allow only for a certificate that never reached finality (finality needs
2f+1 executions, so its inputs are gone on 2f+1 replicas and no other quorum can form):
``reconcile`` drops such entries, and the entries that consumed their outputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from node.sui.effects import TransactionEffects
from node.sui.store import ObjectStore, StoreError, SuiObject, SuiPackage, Tombstone
from vocab.sui.address import ObjectId
from vocab.sui.digests import Digest
from vocab.sui.objects import ObjectRef
from vocab.sui.transaction import ImmOrOwnedObject, MoveCall, Publish, SharedObject, TransactionData, Upgrade

Entry = SuiObject | Tombstone


@dataclass(frozen=True)
class FastExecution:
    """One certificate executed on the fast view, as it will be committed once sequenced."""

    effects: TransactionEffects
    written: tuple[SuiObject, ...]
    removed: tuple[Tombstone, ...]
    packages: tuple[SuiPackage, ...]
    inputs: tuple[ObjectRef, ...]
    """The owned and immutable object versions it consumed or read."""
    packages_named: tuple[ObjectId, ...]
    """The packages its commands name (``packages_named``)."""
    response: bytes = b""
    """The JSON response it gave (the same bytes its sequencing certifies: kept, not
    computed again)."""

    @property
    def digest(self) -> Digest:
        return self.effects.transaction_digest


def _latest(*candidates: Entry | None) -> Entry | None:
    """The entry of the highest version (the base's on a tie: the same version is the
    same object, committed to both)."""
    best: Entry | None = None
    for candidate in candidates:
        if candidate is not None and (best is None or candidate.version > best.version):
            best = candidate
    return best


class _Objects(Mapping[ObjectId, SuiObject]):
    """The live objects of a ``LayeredStore`` (lookups only: what the checks ask)."""

    def __init__(self, view: LayeredStore) -> None:
        self._view = view

    def __getitem__(self, object_id: ObjectId) -> SuiObject:
        found = self._view.get(object_id)
        if found is None:
            raise KeyError(object_id)
        return found

    def __iter__(self) -> Iterator[ObjectId]:
        ids = dict.fromkeys([*self._view.base.objects, *self._view.top.objects])
        return (object_id for object_id in ids if self._view.get(object_id) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Tombstones:
    def __init__(self, view: LayeredStore) -> None:
        self._view = view

    def get(self, object_id: ObjectId) -> Tombstone | None:
        found = self._view.latest(object_id)
        return found if isinstance(found, Tombstone) else None


class _Packages(Mapping[ObjectId, SuiPackage]):
    def __init__(self, view: LayeredStore) -> None:
        self._view = view

    def __getitem__(self, package_id: ObjectId) -> SuiPackage:
        found = self._view.package(package_id)
        if found is None:
            raise KeyError(package_id)
        return found

    def __iter__(self) -> Iterator[ObjectId]:
        return iter(dict.fromkeys([*self._view.base.packages, *self._view.top.packages]))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class LayeredStore:
    """The fast view: ``base`` (the sequenced store) with ``top`` (the writes of certificates
    executed here and not yet sequenced) over it. It answers what ``ObjectStore`` answers to
    the executor and the input checks, and takes their commits into ``top``."""

    def __init__(self, base: ObjectStore) -> None:
        self.base = base
        self.top = ObjectStore()
        self.objects = _Objects(self)
        self.tombstones = _Tombstones(self)
        self.packages = _Packages(self)
        self.last_commit: tuple[tuple[SuiObject, ...], tuple[Tombstone, ...], tuple[SuiPackage, ...]] = (
            (),
            (),
            (),
        )
        """What the last ``commit`` wrote (the fast layer records it with the effects)."""

    def latest(self, object_id: ObjectId) -> Entry | None:
        base, top = self.base, self.top
        return _latest(
            base.objects.get(object_id),
            base.tombstones.get(object_id),
            top.objects.get(object_id),
            top.tombstones.get(object_id),
        )

    def get(self, object_id: ObjectId) -> SuiObject | None:
        found = self.latest(object_id)
        return found if isinstance(found, SuiObject) else None

    def package(self, package_id: ObjectId) -> SuiPackage | None:
        return self.top.packages.get(package_id) or self.base.packages.get(package_id)

    def effects(self, digest: Digest) -> TransactionEffects | None:
        return self.top.executed.get(digest) or self.base.executed.get(digest)

    def owned_by(self, address: bytes) -> list[SuiObject]:
        found = [
            obj
            for obj in (self.objects[object_id] for object_id in self.objects)
            if getattr(obj.owner, "address", None) is not None and obj.owner.address.raw == address  # type: ignore[union-attr]
        ]
        return sorted(found, key=lambda o: o.id.raw)

    def commit(
        self,
        effects: TransactionEffects,
        written: tuple[SuiObject, ...] | list[SuiObject] = (),
        removed: tuple[Tombstone, ...] | list[Tombstone] = (),
        packages: tuple[SuiPackage, ...] | list[SuiPackage] = (),
    ) -> None:
        if effects.transaction_digest in self.base.executed:
            raise StoreError(f"transaction {effects.transaction_digest} was already executed")
        written, removed, packages = tuple(written), tuple(removed), tuple(packages)
        self.top.commit(effects, written, removed, packages)
        self.last_commit = (written, removed, packages)


def input_refs(tx: TransactionData) -> tuple[ObjectRef, ...]:
    """The owned and immutable object versions a transaction names."""
    return tuple(arg.ref for arg in tx.kind.inputs if isinstance(arg, ImmOrOwnedObject))


def has_shared_inputs(tx: TransactionData) -> bool:
    return any(isinstance(arg, SharedObject) for arg in tx.kind.inputs)


def not_yet_available(store: ObjectStore, tx: TransactionData) -> ObjectId | None:
    """An input the sequenced ``store`` has not reached yet: an owned object version above
    its current one (or an object it has never seen), a shared object or a package it does
    not hold. Such a transaction was certified against a replica's fast view, where an
    earlier certificate made the input; consensus may order the two either way, so it waits
    for that certificate (``SuiLedger``'s deferred transactions). Inputs that are gone
    (consumed, deleted) are not "not yet": the transaction runs and fails by Sui's rules."""
    for arg in tx.kind.inputs:
        if isinstance(arg, ImmOrOwnedObject):
            ref = arg.ref
            current = _latest(store.objects.get(ref.object_id), store.tombstones.get(ref.object_id))
            if ref.object_id not in store.packages and (current is None or current.version < ref.version):
                return ref.object_id
        elif isinstance(arg, SharedObject) and (
            arg.object_id not in store.objects
            and arg.object_id not in store.tombstones
            and arg.object_id not in store.packages
        ):
            return arg.object_id
    for package_id in packages_named(tx):
        if package_id not in store.packages and package_id not in store.objects:
            return package_id
    return None


def packages_named(tx: TransactionData) -> tuple[ObjectId, ...]:
    """The packages a transaction's commands name: Move calls' packages, the dependencies
    of a publish or an upgrade, and the package an upgrade upgrades."""
    named: list[ObjectId] = []
    for command in tx.kind.commands:
        if isinstance(command, MoveCall):
            named.append(command.package)
        elif isinstance(command, Publish):
            named.extend(command.dependencies)
        elif isinstance(command, Upgrade):
            named.extend((*command.dependencies, command.package))
    return tuple(dict.fromkeys(named))


class FastLayer:
    """The certificates this replica executed ahead of consensus, in execution order, and
    the view they make (``view``)."""

    def __init__(self, base: ObjectStore) -> None:
        self.view = LayeredStore(base)
        self.entries: dict[Digest, FastExecution] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def record(self, execution: FastExecution) -> None:
        """Keep an execution the executor just committed into ``view.top``."""
        assert execution.digest in self.view.top.executed, "recorded after its commit"
        self.entries[execution.digest] = execution

    def take(self, digest: Digest) -> FastExecution | None:
        """The recorded execution of a certificate consensus now sequences, if this
        replica executed it and the sequenced store holds every input it read at the very
        version it read (so committing the record equals executing it there); None
        otherwise (the caller executes it on the sequenced store)."""
        execution = self.entries.get(digest)
        if execution is None:
            return None
        base = self.view.base
        for ref in execution.inputs:
            current = base.objects.get(ref.object_id)
            if current is None or current.version != ref.version or current.digest != ref.digest:
                return None
        for package_id in execution.packages_named:
            if package_id not in base.packages:
                return None
        del self.entries[digest]
        return execution

    def reconcile(self) -> list[Digest]:
        """After the sequenced store changed: forget what it caught up with, drop the
        executions it contradicts (an input consumed by another transaction) and those that
        consumed their outputs, and rebuild the layer; the digests dropped."""
        base = self.view.base
        dropped: list[Digest] = []
        lost: set[tuple[ObjectId, int]] = set()
        kept: list[FastExecution] = []
        for digest, execution in self.entries.items():
            if digest in base.executed:
                continue  # sequenced (executed there without this record)
            conflict = False
            for ref in execution.inputs:
                current = _latest(base.objects.get(ref.object_id), base.tombstones.get(ref.object_id))
                if (ref.object_id, ref.version) in lost:
                    conflict = True
                elif current is not None and current.version >= ref.version:
                    conflict = not (
                        isinstance(current, SuiObject)
                        and current.version == ref.version
                        and current.digest == ref.digest
                    )
                if conflict:
                    break
            if conflict:
                dropped.append(digest)
                lost.update((obj.id, obj.version) for obj in execution.written)
                continue
            kept.append(execution)
        self.entries = {execution.digest: execution for execution in kept}
        top = ObjectStore()
        for execution in kept:
            top.commit(execution.effects, execution.written, execution.removed, execution.packages)
        _prune(top, base)
        self.view.top = top
        return dropped


def _prune(top: ObjectStore, base: ObjectStore) -> None:
    """Drop from ``top`` what ``base`` holds at the same or a later version."""
    for object_id in list(top.objects):
        mine = top.objects[object_id]
        theirs = _latest(base.objects.get(object_id), base.tombstones.get(object_id))
        if theirs is not None and theirs.version >= mine.version:
            del top.objects[object_id]
    for object_id in list(top.tombstones):
        tomb = top.tombstones[object_id]
        theirs = _latest(base.objects.get(object_id), base.tombstones.get(object_id))
        if theirs is not None and theirs.version >= tomb.version:
            del top.tombstones[object_id]
    for package_id in list(top.packages):
        if package_id in base.packages:
            del top.packages[package_id]


__all__ = [
    "FastExecution",
    "FastLayer",
    "LayeredStore",
    "has_shared_inputs",
    "input_refs",
    "not_yet_available",
    "packages_named",
]
