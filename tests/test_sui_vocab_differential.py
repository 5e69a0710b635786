"""Differential test of vocab.sui against the TypeScript SDK, @mysten/sui.

Seeded, generated transactions are built with the SDK's ``Transaction`` builder (move
calls with pure and object arguments, results passed on, transfers, ``makeMoveVec``,
``publish``, ``upgrade``, coin commands, expirations, sponsored gas) and signed with its
``Ed25519Keypair.signTransaction``, all in one Node.js process. The same transactions are
built here from the same description with vocab.sui. Bytes, digests and signatures must be
equal byte for byte, the SDK's bytes must decode here to the same transaction and its
signatures verify here, and the signed envelopes (``SenderSignedData``) must agree. The
batch also compares addresses of keys, type tags (BCS and text), dynamic field ids, Base58,
owners, pure values and stored objects (``bcs.Object``).

@mysten/sui is installed (pinned) into ``.cache/npm-sui`` on first use (``tests.npm``); the
test is skipped only where Node.js itself is missing.
"""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest

from tests import npm
from tests.sui_transactions import PURE_TYPES, TYPE_ARGS, address, build, generate, key, random_id
from tests.test_bcs_differential import SUI_PACKAGES
from vocab import bcs
from vocab.sui import base58, digests, ids, signature
from vocab.sui.address import ObjectId, SuiAddress
from vocab.sui.digests import Digest
from vocab.sui.objects import (
    GAS_COIN_TYPE,
    OWNER,
    AddressOwner,
    ConsensusAddressOwner,
    Immutable,
    MoveObject,
    MovePackage,
    Object,
    ObjectOwner,
    ObjectRef,
    Shared,
    TypeOrigin,
    UpgradeInfo,
)
from vocab.sui.pure import decode_pure, encode_pure
from vocab.sui.signed import SignedTransaction
from vocab.sui.transaction import (
    TransactionData,
)
from vocab.sui.type_tag import TYPE_TAG, StructTag, parse_struct_tag, parse_type_tag

pytestmark = npm.requires_node("@mysten/sui")

SCRIPT = r"""
import { readFileSync } from 'node:fs';
import { Transaction, Inputs } from '@mysten/sui/transactions';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { bcs, pureBcsSchemaFromTypeName } from '@mysten/sui/bcs';
import { deriveDynamicFieldID, normalizeStructTag, normalizeSuiAddress, toBase58 } from '@mysten/sui/utils';

const hexToBytes = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const bytesToHex = (b) => Buffer.from(b).toString('hex');
const keypair = (seed) => Ed25519Keypair.fromSecretKey(hexToBytes(seed));

function pure(tx, [type, value]) {
  switch (type) {
    case 'u8': case 'u16': case 'u32': return tx.pure[type](Number(value));
    case 'u64': case 'u128': case 'u256': return tx.pure[type](BigInt(value));
    case 'bool': return tx.pure.bool(value);
    case 'address': return tx.pure.address(value);
    case 'string': return tx.pure.string(value);
    case 'vector<u8>': return tx.pure.vector('u8', value);
    case 'vector<u64>': return tx.pure.vector('u64', value.map(BigInt));
    case 'option<u64>': return tx.pure.option('u64', value === null ? null : BigInt(value));
  }
  throw new Error('unknown pure type ' + type);
}

function input(tx, spec) {
  if (spec.pure) return pure(tx, spec.pure);
  if (spec.owned) return tx.object(Inputs.ObjectRef(spec.owned));
  if (spec.shared) return tx.object(Inputs.SharedObjectRef(spec.shared));
  if (spec.receiving) return tx.object(Inputs.ReceivingRef(spec.receiving));
  throw new Error('unknown input ' + JSON.stringify(spec));
}

async function transaction(spec) {
  const sender = keypair(spec.seed);
  const tx = new Transaction();
  tx.setSender(sender.toSuiAddress());
  tx.setGasPrice(BigInt(spec.price));
  tx.setGasBudget(BigInt(spec.budget));
  tx.setGasPayment(spec.payment);
  const sponsor = spec.sponsorSeed ? keypair(spec.sponsorSeed) : null;
  if (sponsor) tx.setGasOwner(sponsor.toSuiAddress());
  if (spec.epoch !== null) tx.setExpiration({ Epoch: spec.epoch });
  const inputs = spec.inputs.map((i) => input(tx, i));
  const results = [];
  const arg = (a) => {
    if ('input' in a) return inputs[a.input];
    if ('result' in a) return results[a.result];
    if ('nested' in a) return results[a.nested[0]][a.nested[1]];
    if ('gas' in a) return tx.gas;
    throw new Error('unknown argument ' + JSON.stringify(a));
  };
  for (const c of spec.commands) {
    let r;
    if (c.moveCall) r = tx.moveCall({ target: c.moveCall.target, typeArguments: c.moveCall.typeArguments, arguments: c.moveCall.arguments.map(arg) });
    else if (c.transferObjects) r = tx.transferObjects(c.transferObjects.objects.map(arg), arg(c.transferObjects.address));
    else if (c.makeMoveVec) r = tx.makeMoveVec({ type: c.makeMoveVec.type ?? undefined, elements: c.makeMoveVec.elements.map(arg) });
    else if (c.publish) r = tx.publish({ modules: c.publish.modules.map(hexToBytes), dependencies: c.publish.dependencies });
    else if (c.upgrade) r = tx.upgrade({ modules: c.upgrade.modules.map(hexToBytes), dependencies: c.upgrade.dependencies, package: c.upgrade.package, ticket: arg(c.upgrade.ticket) });
    else if (c.splitCoins) r = tx.splitCoins(arg(c.splitCoins.coin), c.splitCoins.amounts.map(arg));
    else if (c.mergeCoins) r = tx.mergeCoins(arg(c.mergeCoins.destination), c.mergeCoins.sources.map(arg));
    else throw new Error('unknown command ' + JSON.stringify(c));
    results.push(r);
  }
  const bytes = await tx.build();
  const signatures = [(await sender.signTransaction(bytes)).signature];
  if (sponsor) signatures.push((await sponsor.signTransaction(bytes)).signature);
  const senderSigned = bcs.SenderSignedData.serialize([{
    intentMessage: {
      intent: { scope: { TransactionData: true }, version: { V0: true }, appId: { Sui: true } },
      value: bcs.TransactionData.parse(bytes),
    },
    txSignatures: signatures,
  }]).toBytes();
  return {
    bytes: bytesToHex(bytes), digest: await tx.getDigest(), sender: sender.toSuiAddress(), signatures,
    senderSigned: bytesToHex(senderSigned),
  };
}

function owner(o) {
  return bytesToHex(bcs.Owner.serialize(o).toBytes());
}

function pureJs(type, v) {
  if (['u8', 'u16', 'u32'].includes(type)) return Number(v);
  if (['u64', 'u128', 'u256'].includes(type)) return BigInt(v);
  const generic = type.match(/^(vector|option)<(.+)>$/);
  if (generic && generic[1] === 'vector') return v.map((x) => pureJs(generic[2], x));
  if (generic) return v === null ? null : pureJs(generic[2], v);
  return v;
}

function object(o) {
  let data;
  if (o.move) {
    const m = o.move;
    const type = m.coin !== undefined ? { Coin: m.coin } : m.gasCoin ? { GasCoin: true } : { Other: bcs.StructTag.parse(hexToBytes(m.structTag)) };
    data = { Move: { type, hasPublicTransfer: m.hasPublicTransfer, version: BigInt(m.version), contents: hexToBytes(m.contents) } };
  } else {
    const p = o.package;
    data = { Package: {
      id: p.id, version: BigInt(p.version),
      moduleMap: new Map(p.modules.map(([n, h]) => [n, hexToBytes(h)])),
      typeOriginTable: p.typeOrigins,
      linkageTable: new Map(p.linkage.map(([k, id, v]) => [k, { upgradedId: id, upgradedVersion: BigInt(v) }])),
    } };
  }
  return bytesToHex(bcs.Object.serialize({ data, owner: o.owner, previousTransaction: o.previousTransaction, storageRebate: BigInt(o.storageRebate) }).toBytes());
}

const input_ = JSON.parse(readFileSync(0, 'utf8'));
const out = {
  transactions: [],
  addresses: input_.seeds.map((s) => keypair(s).toSuiAddress()),
  typeTags: input_.typeTags.map((t) => ({
    bcs: bytesToHex(bcs.TypeTag.serialize(t).toBytes()),
    text: bcs.TypeTag.parse(bcs.TypeTag.serialize(t).toBytes()),
    normalized: t.includes('::') && !t.startsWith('vector<') ? normalizeStructTag(t) : null,
  })),
  dynamicFields: input_.dynamicFields.map(([p, t, k]) => deriveDynamicFieldID(p, t, hexToBytes(k))),
  base58: input_.base58.map((h) => toBase58(hexToBytes(h))),
  normalized: input_.shortAddresses.map((a) => normalizeSuiAddress(a)),
  owners: input_.owners.map(owner),
  pure: input_.pure.map(([t, v]) => bytesToHex(pureBcsSchemaFromTypeName(t).serialize(pureJs(t, v)).toBytes())),
  objects: input_.objects.map(object),
};
for (const spec of input_.transactions) {
  try { out.transactions.push({ ok: await transaction(spec) }); }
  catch (e) { out.transactions.push({ error: String((e && e.stack) || e) }); }
}
process.stdout.write(JSON.stringify(out));
"""

# -- the batch ----------------------------------------------------------------------------

RNG = random.Random(20261128)
TRANSACTIONS = [generate(RNG) for _ in range(60)]
SEEDS = [RNG.randbytes(32).hex() for _ in range(10)]
TYPE_TAG_TEXTS = [
    *TYPE_ARGS,
    "0x2::coin::Coin< 0x2::sui::SUI >",
    "0x00002::m::S",
    "signer",
    "vector<vector<u128>>",
]
DYNAMIC_FIELDS = [
    (random_id(RNG), "u64", bcs.U64.encode(481316).hex()),
    (random_id(RNG), "address", RNG.randbytes(32).hex()),
    (random_id(RNG), "vector<u8>", bcs.BYTES.encode(b"name").hex()),
    ("0x2", "0x1::string::String", bcs.STRING.encode("key").hex()),
]
BASE58 = ["", "00", "0000ff", *[RNG.randbytes(RNG.randrange(1, 40)).hex() for _ in range(20)]]
SHORT_ADDRESSES = ["0x2", "0x0", "0xABC", "0x" + "0" * 63 + "1"]
OWNERS: list[tuple[Any, dict[str, Any]]] = [
    (AddressOwner(address(SEEDS[0])), {"AddressOwner": str(address(SEEDS[0]))}),
    (ObjectOwner(address(SEEDS[1])), {"ObjectOwner": str(address(SEEDS[1]))}),
    (Shared(12345), {"Shared": {"initialSharedVersion": "12345"}}),
    (Immutable(), {"Immutable": True}),
    (
        ConsensusAddressOwner(7, address(SEEDS[2])),
        {"ConsensusAddressOwner": {"startVersion": "7", "owner": str(address(SEEDS[2]))}},
    ),
]


# (the SDK's pure type name, ours, the value here, the value as the driver's JSON)
PURE_CASES: list[tuple[str, str, Any, Any]] = [
    ("u8", "u8", 255, 255),
    ("u256", "u256", 2**256 - 1, str(2**256 - 1)),
    ("bool", "bool", True, True),
    ("string", "0x1::string::String", "Move ☃", "Move ☃"),
    ("address", "address", address(SEEDS[3]), str(address(SEEDS[3]))),
    ("id", "0x2::object::ID", ObjectId.from_text("0x5"), "0x5"),
    ("vector<u8>", "vector<u8>", b"\x00\xff", [0, 255]),
    ("vector<u16>", "vector<u16>", [1, 65535], [1, 65535]),
    ("vector<string>", "vector<0x1::string::String>", ["a", ""], ["a", ""]),
    ("option<u64>", "0x1::option::Option<u64>", None, None),
    ("option<u64>", "0x1::option::Option<u64>", 2**64 - 1, str(2**64 - 1)),
    (
        "option<vector<address>>",
        "0x1::option::Option<vector<address>>",
        [address(SEEDS[4])],
        [str(address(SEEDS[4]))],
    ),
    ("vector<option<bool>>", "vector<0x1::option::Option<bool>>", [None, False], [None, False]),
]

_CONTENTS = ObjectId(RNG.randbytes(32)).raw + bcs.U64.encode(41)
_PREVIOUS = Digest(RNG.randbytes(32))
_PACKAGE_ID = ObjectId(RNG.randbytes(32))
OBJECTS: list[tuple[Object, dict[str, Any]]] = [
    (
        Object(
            MoveObject(parse_struct_tag("0x" + "ab" * 32 + "::counter::Counter"), False, 9, _CONTENTS),
            Shared(3),
            _PREVIOUS,
            0,
        ),
        {
            "move": {
                "structTag": TYPE_TAG.encode(parse_type_tag("0x" + "ab" * 32 + "::counter::Counter"))[
                    1:
                ].hex(),
                "hasPublicTransfer": False,
                "version": "9",
                "contents": _CONTENTS.hex(),
            },
            "owner": {"Shared": {"initialSharedVersion": "3"}},
            "previousTransaction": str(_PREVIOUS),
            "storageRebate": "0",
        },
    ),
    (
        Object(
            MoveObject(GAS_COIN_TYPE, True, 2, _CONTENTS), AddressOwner(address(SEEDS[5])), _PREVIOUS, 988
        ),
        {
            "move": {"gasCoin": True, "hasPublicTransfer": True, "version": "2", "contents": _CONTENTS.hex()},
            "owner": {"AddressOwner": str(address(SEEDS[5]))},
            "previousTransaction": str(_PREVIOUS),
            "storageRebate": "988",
        },
    ),
    (
        Object(
            MoveObject(
                parse_struct_tag("0x2::coin::Coin<0x" + "cd" * 32 + "::usd::USD>"), True, 5, _CONTENTS
            ),
            Immutable(),
            _PREVIOUS,
            1,
        ),
        {
            "move": {
                "coin": "0x" + "cd" * 32 + "::usd::USD",
                "hasPublicTransfer": True,
                "version": "5",
                "contents": _CONTENTS.hex(),
            },
            "owner": {"Immutable": True},
            "previousTransaction": str(_PREVIOUS),
            "storageRebate": "1",
        },
    ),
    (
        Object(
            MovePackage(
                _PACKAGE_ID,
                1,
                {"counter": b"\x00asm\x01", "a": b"", "zz_long_name": b"\x01\x02"},
                (
                    TypeOrigin("counter", "Counter", _PACKAGE_ID),
                    TypeOrigin("counter", "AdminCap", _PACKAGE_ID),
                ),
                {
                    ObjectId.from_text("0x2"): UpgradeInfo(ObjectId.from_text("0x2"), 1),
                    ObjectId.from_text("0x1"): UpgradeInfo(ObjectId.from_text("0x1"), 3),
                },
            ),
            Immutable(),
            _PREVIOUS,
            0,
        ),
        {
            "package": {
                "id": str(_PACKAGE_ID),
                "version": "1",
                "modules": [["counter", "0061736d01"], ["a", ""], ["zz_long_name", "0102"]],
                "typeOrigins": [
                    {"moduleName": "counter", "datatypeName": "Counter", "package": str(_PACKAGE_ID)},
                    {"moduleName": "counter", "datatypeName": "AdminCap", "package": str(_PACKAGE_ID)},
                ],
                "linkage": [["0x2", "0x2", "1"], ["0x1", "0x1", "3"]],
            },
            "owner": {"Immutable": True},
            "previousTransaction": str(_PREVIOUS),
            "storageRebate": "0",
        },
    ),
]


@pytest.fixture(scope="module")
def sdk() -> dict[str, Any]:
    """Everything the SDK computes for the batch, from one Node.js process."""
    directory = npm.install("npm-sui", SUI_PACKAGES, {"sui_differential.mjs": SCRIPT})
    payload = {
        "transactions": TRANSACTIONS,
        "seeds": SEEDS,
        "typeTags": TYPE_TAG_TEXTS,
        "dynamicFields": DYNAMIC_FIELDS,
        "base58": BASE58,
        "shortAddresses": SHORT_ADDRESSES,
        "owners": [js for _, js in OWNERS],
        "pure": [[sdk_type, js] for sdk_type, _, _, js in PURE_CASES],
        "objects": [js for _, js in OBJECTS],
    }
    return npm.run_node(directory, "sui_differential.mjs", payload)


def test_generated_batch_covers_every_command_and_input() -> None:
    commands = {kind for spec in TRANSACTIONS for c in spec["commands"] for kind in c}
    inputs = {kind for spec in TRANSACTIONS for i in spec["inputs"] for kind in i}
    pure_types = {i["pure"][0] for spec in TRANSACTIONS for i in spec["inputs"] if "pure" in i}
    assert commands == {
        "moveCall",
        "transferObjects",
        "makeMoveVec",
        "publish",
        "upgrade",
        "splitCoins",
        "mergeCoins",
    }
    assert inputs == {"pure", "owned", "shared", "receiving"}
    assert pure_types == set(PURE_TYPES)
    assert any(spec["sponsorSeed"] for spec in TRANSACTIONS) and any(
        spec["epoch"] is not None for spec in TRANSACTIONS
    )


@pytest.mark.parametrize("index", range(len(TRANSACTIONS)))
def test_transaction_matches_the_sdk(sdk: dict[str, Any], index: int) -> None:
    spec = TRANSACTIONS[index]
    reply = sdk["transactions"][index]
    assert "ok" in reply, f"the SDK could not build transaction {index}: {reply['error']}"
    theirs = reply["ok"]
    ours = build(spec)
    their_bytes = bytes.fromhex(theirs["bytes"])
    assert ours.to_bcs() == their_bytes
    assert TransactionData.from_bcs(their_bytes) == ours
    assert ours.digest().to_text() == theirs["digest"]
    assert str(ours.sender) == theirs["sender"]
    keys = [key(spec["seed"])] + ([key(spec["sponsorSeed"])] if spec["sponsorSeed"] else [])
    assert [signature.sign(key, their_bytes).to_base64() for key in keys] == theirs["signatures"]
    signed = SignedTransaction.from_base64(base64.b64encode(their_bytes).decode(), theirs["signatures"])
    assert signed.verify() == ours
    assert signed.to_bcs().hex() == theirs["senderSigned"]
    assert SignedTransaction.from_bcs(bytes.fromhex(theirs["senderSigned"])) == signed


def test_addresses_match_the_sdk(sdk: dict[str, Any]) -> None:
    assert [str(address(seed)) for seed in SEEDS] == sdk["addresses"]
    assert [str(SuiAddress.from_text(a)) for a in SHORT_ADDRESSES] == sdk["normalized"]


def test_type_tags_match_the_sdk(sdk: dict[str, Any]) -> None:
    for text, theirs in zip(TYPE_TAG_TEXTS, sdk["typeTags"]):
        tag = parse_type_tag(text)
        assert TYPE_TAG.encode(tag).hex() == theirs["bcs"], text
        assert parse_type_tag(theirs["text"]) == tag, text
        if theirs["normalized"] is not None:
            assert isinstance(tag, StructTag)
            assert tag.canonical() == theirs["normalized"], text


def test_dynamic_field_ids_match_the_sdk(sdk: dict[str, Any]) -> None:
    for (parent, key_type, key_bcs), theirs in zip(DYNAMIC_FIELDS, sdk["dynamicFields"]):
        ours = ids.dynamic_field_id(
            ObjectId.from_text(parent), parse_type_tag(key_type), bytes.fromhex(key_bcs)
        )
        assert ours.to_text() == theirs


def test_base58_matches_the_sdk(sdk: dict[str, Any]) -> None:
    assert [base58.encode(bytes.fromhex(h)) for h in BASE58] == sdk["base58"]


def test_pure_values_match_the_sdk(sdk: dict[str, Any]) -> None:
    for (sdk_type, ours, value, _), theirs in zip(PURE_CASES, sdk["pure"]):
        tag = parse_type_tag(ours)
        assert encode_pure(tag, value).hex() == theirs, sdk_type
        assert decode_pure(tag, bytes.fromhex(theirs)) == value, sdk_type


def test_objects_match_the_sdk(sdk: dict[str, Any]) -> None:
    for (obj, _), theirs in zip(OBJECTS, sdk["objects"]):
        assert obj.to_bcs().hex() == theirs
        assert Object.from_bcs(bytes.fromhex(theirs)) == obj
        assert obj.reference() == ObjectRef(
            obj.object_id, obj.version, digests.salted("Object", bytes.fromhex(theirs))
        )


def test_owners_match_the_sdk(sdk: dict[str, Any]) -> None:
    for (owner, _), theirs in zip(OWNERS, sdk["owners"]):
        assert OWNER.encode(owner).hex() == theirs
        assert OWNER.decode(bytes.fromhex(theirs)) == owner
