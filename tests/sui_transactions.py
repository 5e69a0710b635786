"""Seeded descriptions of random Sui transactions (every command and input kind, sponsors,
expirations), and their construction with vocab.sui: the differential test hands the same
descriptions to the TypeScript SDK, the round-trip test builds them here only."""

from __future__ import annotations

import random
from typing import Any

from vocab import bcs, crypto
from vocab.sui import base58
from vocab.sui.address import ADDRESS, ObjectId, SuiAddress
from vocab.sui.digests import Digest
from vocab.sui.objects import ObjectRef
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
from vocab.sui.type_tag import parse_type_tag

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


def random_id(rng: random.Random) -> str:
    return "0x" + rng.randbytes(32).hex()


def _ref(rng: random.Random) -> dict[str, Any]:
    return {
        "objectId": random_id(rng),
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
        return random_id(rng)
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
                        "objectId": random_id(rng),
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
            target = f"{random_id(rng) if rng.random() < 0.5 else '0x2'}::{rng.choice(['counter', 'm_1', 'Coin'])}::{rng.choice(['increment', 'new', 'f2'])}"
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
                "dependencies": [random_id(rng) for _ in range(rng.randrange(0, 3))],
            }
            if kind == "upgrade":
                command |= {"package": random_id(rng), "ticket": arg()}
        elif kind == "splitCoins":
            command = {"coin": arg(), "amounts": [arg() for _ in range(rng.randrange(1, 3))]}
        else:
            command = {"destination": arg(), "sources": [arg() for _ in range(rng.randrange(1, 3))]}
        commands.append({kind: command})
    seed = rng.randbytes(32)
    sponsor = bytes([seed[0] ^ 1]) + rng.randbytes(31)  # never the sender's own key
    return {
        "seed": seed.hex(),
        "sponsorSeed": sponsor.hex() if rng.random() < 0.25 else None,
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


def key(seed_hex: str) -> Any:
    return crypto.private_key_from_seed(bytes.fromhex(seed_hex))


def address(seed_hex: str) -> SuiAddress:
    return SuiAddress.from_ed25519_public_key(crypto.raw_public_key(key(seed_hex)))


def build(spec: dict[str, Any]) -> TransactionData:
    sender = address(spec["seed"])
    owner = address(spec["sponsorSeed"]) if spec["sponsorSeed"] else sender
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
