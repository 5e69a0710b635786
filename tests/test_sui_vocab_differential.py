"""Differential test of vocab.sui against the TypeScript SDK, @mysten/sui.

Seeded, generated transactions are built with the SDK's ``Transaction`` builder (move
calls with pure and object arguments, results passed on, transfers, ``makeMoveVec``,
``publish``, ``upgrade``, coin commands, expirations, sponsored gas) and signed with its
``Ed25519Keypair.signTransaction``, all in one Node.js process. The same transactions are
built here from the same description with vocab.sui. Bytes, digests and signatures must be
equal byte for byte, the SDK's bytes must decode here to the same transaction and its
signatures verify here. The batch also compares addresses of keys, type tags (BCS and
text), dynamic field ids, Base58 and owners.

@mysten/sui is installed (pinned) into ``.cache/npm-sui`` on first use (``tests.npm``); the
test is skipped only where Node.js itself is missing.
"""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest

from tests import npm
from tests.test_bcs_differential import SUI_PACKAGES
from vocab import bcs, crypto
from vocab.sui import base58, digests, ids, signature
from vocab.sui.address import ADDRESS, ObjectId, SuiAddress
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
    Argument,
    CallArg,
    Command,
    EpochExpiration,
    GasCoin,
    GasData,
    ImmOrOwnedObject,
    Input,
    MakeMoveVec,
    MergeCoins,
    MoveCall,
    NestedResult,
    NoExpiration,
    ProgrammableTransaction,
    Publish,
    Pure,
    Receiving,
    Result,
    SharedObject,
    SplitCoins,
    TransactionData,
    TransferObjects,
    Upgrade,
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
  return { bytes: bytesToHex(bytes), digest: await tx.getDigest(), sender: sender.toSuiAddress(), signatures };
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

# -- generated descriptions, built here with vocab.sui ------------------------------------

PURE_TYPES = [
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "u256",
    "bool",
    "address",
    "string",
    "vector<u8>",
    "vector<u64>",
    "option<u64>",
]
TYPE_ARGS = [
    "u8",
    "u64",
    "bool",
    "address",
    "vector<u8>",
    "0x2::sui::SUI",
    "0x2::coin::Coin<0x2::sui::SUI>",
    "0x1::option::Option<vector<u16>>",
    "0x" + "ab" * 32 + "::pair::Pair<u32, 0x1::string::String>",
    "vector<0x2::table::Table<address, u256>>",
]


def _id(rng: random.Random) -> str:
    return "0x" + rng.randbytes(32).hex()


def _ref(rng: random.Random) -> dict[str, Any]:
    return {
        "objectId": _id(rng),
        "version": str(rng.randrange(1, 2**40)),
        "digest": base58.encode(rng.randbytes(32)),
    }


def _pure_value(rng: random.Random, kind: str) -> Any:
    if kind in ("u8", "u16", "u32", "u64", "u128", "u256"):
        bits = int(kind[1:])
        return str(rng.choice([0, 1, 2**bits - 1, rng.randrange(2**bits)]))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "address":
        return _id(rng)
    if kind == "string":
        return "".join(rng.choice("aé☃ z0\n") for _ in range(rng.randrange(0, 12)))
    if kind == "vector<u8>":
        return [rng.randrange(256) for _ in range(rng.randrange(0, 140))]
    if kind == "vector<u64>":
        return [str(rng.randrange(2**64)) for _ in range(rng.randrange(0, 4))]
    return None if rng.random() < 0.4 else str(rng.randrange(2**64))


def generate(rng: random.Random) -> dict[str, Any]:
    inputs: list[dict[str, Any]] = []
    for _ in range(rng.randrange(0, 7)):
        kind = rng.choice(["pure", "pure", "owned", "shared", "receiving"])
        if kind == "pure":
            pure_type = rng.choice(PURE_TYPES)
            inputs.append({"pure": [pure_type, _pure_value(rng, pure_type)]})
        elif kind == "shared":
            inputs.append(
                {
                    "shared": {
                        "objectId": _id(rng),
                        "initialSharedVersion": str(rng.randrange(1, 2**40)),
                        "mutable": rng.random() < 0.5,
                    }
                }
            )
        else:
            inputs.append({kind: _ref(rng)})
    commands: list[dict[str, Any]] = []

    def arg() -> dict[str, Any]:
        choices: list[dict[str, Any]] = [{"gas": True}]
        if inputs:
            choices += [{"input": rng.randrange(len(inputs))}] * 3
        if commands:
            c = rng.randrange(len(commands))
            choices += [{"result": c}, {"nested": [c, rng.randrange(3)]}]
        return rng.choice(choices)

    for _ in range(rng.randrange(1, 6)):
        kind = rng.choice(
            [
                "moveCall",
                "moveCall",
                "transferObjects",
                "makeMoveVec",
                "publish",
                "upgrade",
                "splitCoins",
                "mergeCoins",
            ]
        )
        if kind == "moveCall":
            target = f"{_id(rng) if rng.random() < 0.5 else '0x2'}::{rng.choice(['counter', 'm_1', 'Coin'])}::{rng.choice(['increment', 'new', 'f2'])}"
            command = {
                "target": target,
                "typeArguments": rng.sample(TYPE_ARGS, rng.randrange(0, 3)),
                "arguments": [arg() for _ in range(rng.randrange(0, 4))],
            }
        elif kind == "transferObjects":
            command = {"objects": [arg() for _ in range(rng.randrange(1, 3))], "address": arg()}
        elif kind == "makeMoveVec":
            command = {
                "type": rng.choice([None, "u64", "0x2::coin::Coin<0x2::sui::SUI>"]),
                "elements": [arg() for _ in range(rng.randrange(0, 3))],
            }
        elif kind in ("publish", "upgrade"):
            command = {
                "modules": [rng.randbytes(rng.randrange(0, 200)).hex() for _ in range(rng.randrange(1, 3))],
                "dependencies": [_id(rng) for _ in range(rng.randrange(0, 3))],
            }
            if kind == "upgrade":
                command |= {"package": _id(rng), "ticket": arg()}
        elif kind == "splitCoins":
            command = {"coin": arg(), "amounts": [arg() for _ in range(rng.randrange(1, 3))]}
        else:
            command = {"destination": arg(), "sources": [arg() for _ in range(rng.randrange(1, 3))]}
        commands.append({kind: command})
    return {
        "seed": rng.randbytes(32).hex(),
        "sponsorSeed": rng.randbytes(32).hex() if rng.random() < 0.25 else None,
        "price": str(rng.randrange(1, 2**64)),
        "budget": str(rng.randrange(1, 2**64)),
        "payment": [_ref(rng) for _ in range(rng.randrange(1, 3))],
        "epoch": rng.randrange(0, 2**40) if rng.random() < 0.3 else None,
        "inputs": inputs,
        "commands": commands,
    }


_PURE_SCHEMAS = {
    "u8": bcs.U8,
    "u16": bcs.U16,
    "u32": bcs.U32,
    "u64": bcs.U64,
    "u128": bcs.U128,
    "u256": bcs.U256,
    "bool": bcs.BOOL,
    "string": bcs.STRING,
    "vector<u8>": bcs.BYTES,
    "vector<u64>": bcs.Vector(bcs.U64),
    "option<u64>": bcs.Option(bcs.U64),
}


def _pure(kind: str, value: Any) -> Pure:
    if kind == "address":
        return Pure(ADDRESS.encode(SuiAddress.from_text(value)))
    if kind in ("u8", "u16", "u32", "u64", "u128", "u256"):
        value = int(value)
    elif kind == "vector<u8>":
        value = bytes(value)
    elif kind == "vector<u64>":
        value = [int(v) for v in value]
    elif kind == "option<u64>":
        value = None if value is None else int(value)
    return Pure(_PURE_SCHEMAS[kind].encode(value))


def _object_ref(spec: dict[str, Any]) -> ObjectRef:
    return ObjectRef(
        ObjectId.from_text(spec["objectId"]), int(spec["version"]), Digest.from_text(spec["digest"])
    )


def _call_arg(spec: dict[str, Any]) -> CallArg:
    if "pure" in spec:
        return _pure(*spec["pure"])
    if "owned" in spec:
        return ImmOrOwnedObject(_object_ref(spec["owned"]))
    if "receiving" in spec:
        return Receiving(_object_ref(spec["receiving"]))
    shared = spec["shared"]
    return SharedObject(
        ObjectId.from_text(shared["objectId"]), int(shared["initialSharedVersion"]), shared["mutable"]
    )


def _argument(spec: dict[str, Any]) -> Argument:
    if "input" in spec:
        return Input(spec["input"])
    if "result" in spec:
        return Result(spec["result"])
    if "nested" in spec:
        return NestedResult(*spec["nested"])
    return GasCoin()


def _command(spec: dict[str, Any]) -> Command:
    ((kind, c),) = spec.items()
    args = lambda key: tuple(_argument(a) for a in c[key])
    ids_ = lambda key: tuple(ObjectId.from_text(i) for i in c[key])
    if kind == "moveCall":
        package, module, function = c["target"].split("::")
        return MoveCall(
            ObjectId.from_text(package),
            module,
            function,
            tuple(parse_type_tag(t) for t in c["typeArguments"]),
            args("arguments"),
        )
    if kind == "transferObjects":
        return TransferObjects(args("objects"), _argument(c["address"]))
    if kind == "makeMoveVec":
        return MakeMoveVec(None if c["type"] is None else parse_type_tag(c["type"]), args("elements"))
    if kind == "publish":
        return Publish(tuple(bytes.fromhex(m) for m in c["modules"]), ids_("dependencies"))
    if kind == "upgrade":
        return Upgrade(
            tuple(bytes.fromhex(m) for m in c["modules"]),
            ids_("dependencies"),
            ObjectId.from_text(c["package"]),
            _argument(c["ticket"]),
        )
    if kind == "splitCoins":
        return SplitCoins(_argument(c["coin"]), args("amounts"))
    return MergeCoins(_argument(c["destination"]), args("sources"))


def _key(seed_hex: str) -> Any:
    return crypto.private_key_from_seed(bytes.fromhex(seed_hex))


def _address(seed_hex: str) -> SuiAddress:
    return SuiAddress.from_ed25519_public_key(crypto.raw_public_key(_key(seed_hex)))


def build(spec: dict[str, Any]) -> TransactionData:
    sender = _address(spec["seed"])
    owner = _address(spec["sponsorSeed"]) if spec["sponsorSeed"] else sender
    return TransactionData(
        kind=ProgrammableTransaction(
            tuple(_call_arg(i) for i in spec["inputs"]), tuple(_command(c) for c in spec["commands"])
        ),
        sender=sender,
        gas_data=GasData(
            tuple(_object_ref(p) for p in spec["payment"]), owner, int(spec["price"]), int(spec["budget"])
        ),
        expiration=NoExpiration() if spec["epoch"] is None else EpochExpiration(spec["epoch"]),
    )


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
    (_id(RNG), "u64", bcs.U64.encode(481316).hex()),
    (_id(RNG), "address", RNG.randbytes(32).hex()),
    (_id(RNG), "vector<u8>", bcs.BYTES.encode(b"name").hex()),
    ("0x2", "0x1::string::String", bcs.STRING.encode("key").hex()),
]
BASE58 = ["", "00", "0000ff", *[RNG.randbytes(RNG.randrange(1, 40)).hex() for _ in range(20)]]
SHORT_ADDRESSES = ["0x2", "0x0", "0xABC", "0x" + "0" * 63 + "1"]
OWNERS: list[tuple[Any, dict[str, Any]]] = [
    (AddressOwner(_address(SEEDS[0])), {"AddressOwner": str(_address(SEEDS[0]))}),
    (ObjectOwner(_address(SEEDS[1])), {"ObjectOwner": str(_address(SEEDS[1]))}),
    (Shared(12345), {"Shared": {"initialSharedVersion": "12345"}}),
    (Immutable(), {"Immutable": True}),
    (
        ConsensusAddressOwner(7, _address(SEEDS[2])),
        {"ConsensusAddressOwner": {"startVersion": "7", "owner": str(_address(SEEDS[2]))}},
    ),
]


# (the SDK's pure type name, ours, the value here, the value as the driver's JSON)
PURE_CASES: list[tuple[str, str, Any, Any]] = [
    ("u8", "u8", 255, 255),
    ("u256", "u256", 2**256 - 1, str(2**256 - 1)),
    ("bool", "bool", True, True),
    ("string", "0x1::string::String", "Move ☃", "Move ☃"),
    ("address", "address", _address(SEEDS[3]), str(_address(SEEDS[3]))),
    ("id", "0x2::object::ID", ObjectId.from_text("0x5"), "0x5"),
    ("vector<u8>", "vector<u8>", b"\x00\xff", [0, 255]),
    ("vector<u16>", "vector<u16>", [1, 65535], [1, 65535]),
    ("vector<string>", "vector<0x1::string::String>", ["a", ""], ["a", ""]),
    ("option<u64>", "0x1::option::Option<u64>", None, None),
    ("option<u64>", "0x1::option::Option<u64>", 2**64 - 1, str(2**64 - 1)),
    (
        "option<vector<address>>",
        "0x1::option::Option<vector<address>>",
        [_address(SEEDS[4])],
        [str(_address(SEEDS[4]))],
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
            MoveObject(GAS_COIN_TYPE, True, 2, _CONTENTS), AddressOwner(_address(SEEDS[5])), _PREVIOUS, 988
        ),
        {
            "move": {"gasCoin": True, "hasPublicTransfer": True, "version": "2", "contents": _CONTENTS.hex()},
            "owner": {"AddressOwner": str(_address(SEEDS[5]))},
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
    keys = [_key(spec["seed"])] + ([_key(spec["sponsorSeed"])] if spec["sponsorSeed"] else [])
    assert [signature.sign(key, their_bytes).to_base64() for key in keys] == theirs["signatures"]
    signed = SignedTransaction.from_base64(base64.b64encode(their_bytes).decode(), theirs["signatures"])
    assert signed.verify() == ours


def test_addresses_match_the_sdk(sdk: dict[str, Any]) -> None:
    assert [str(_address(seed)) for seed in SEEDS] == sdk["addresses"]
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
    for (parent, key_type, key), theirs in zip(DYNAMIC_FIELDS, sdk["dynamicFields"]):
        ours = ids.dynamic_field_id(ObjectId.from_text(parent), parse_type_tag(key_type), bytes.fromhex(key))
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
