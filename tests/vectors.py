"""Known answers from outside the project (../shared/conformance/ic/VECTORS.md and others)."""

RFC8032_KEY1_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_KEY1_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_KEY1_PRINCIPAL = "e73il-iz5tp-nkgt7-idxyw-ngkah-47bpv-qdase-pzde6-g6vwc-a3eql-jae"

TEXTUAL_PRINCIPALS = [
    ("", "aaaaa-aa"),
    ("04", "2vxsx-fae"),
    ("abcd01", "em77e-bvlzu-aq"),
    ("00000000000000000101", "rwlgt-iiaaa-aaaaa-aaaaa-cai"),
    ("00000000000000010101", "rrkah-fqaaa-aaaaa-aaaaq-cai"),
    ("00000000000000020101", "ryjl3-tyaaa-aaaaa-aaaba-cai"),
    ("00000000000000030101", "r7inp-6aaaa-aaaaa-aaabq-cai"),
]

REQUEST_ID_EXAMPLE = "1d1091364d6bb8a6c16b203ee75467d59ead468f523eb058880ae8ec80e2b101"
LEB128_EXPIRY_SHA256 = "db8e57abc8cda1525d45fdd2637af091bc1f28b35819a40df71517d1501f2c76"
ARG_SHA256 = "6c0b2ae49718f6995c02ac5700c9c789d7b7862a0d53e6d40a73f1fcd2f70189"

# Sui addresses printed by the Sui CLI (`sui client new-address ed25519`), as collected in
# the test vectors of OpenDive/sui-py (tests/test_ed25519.py): base64 public key -> address.
SUI_CLI_ADDRESSES = [
    (
        "UdGRWooy48vGTs0HBokIis5NK+DUjiWc9ENUlcfCCBE=",
        "0xd77a6cd55073e98d4029b1b0b8bd8d88f45f343dad2732fc9a7965094e635c55",
    ),
    (
        "0PTAfQmNiabgbak9U/stWZzKc5nsRqokda2qnV2DTfg=",
        "0x7e8fd489c3d3cd9cc7cbcc577dc5d6de831e654edd9997d95c412d013e6eea23",
    ),
    (
        "6L/l0uhGt//9cf6nLQ0+24Uv2qanX/R6tn7lWUJX1Xk=",
        "0x3a1b4410ebe9c3386a429c349ba7929aafab739c277f97f32622b971972a14a2",
    ),
]
