"""Ed25519 helpers shared by identities (users) and node keys (replicas).

Every signature in the project is Ed25519 over a domain-separated message, so a signature
made for one purpose (a request, a block, a query reply) can never be replayed as another.

Keys are ``cryptography`` objects (PEM files, DER, key generation), but signing and
verifying go through libsodium (PyNaCl, from the same PyCA maintainers): on the project's
machine it verifies in 59 us where OpenSSL takes 109 us, and signs in 20 us against 32,
and signatures are the largest single cost of every replica (issue #16, ``bench/PROFILE.md``).
Ed25519 signatures are deterministic (RFC 8032), so both libraries make the same bytes;
libsodium's verification is the stricter one (it also refuses small-order keys and R
points and non-canonical encodings), which only ever turns away signatures no honest
signer makes, the same way on every replica.
"""

from __future__ import annotations

import functools

import nacl.bindings
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.exceptions import BadSignatureError

from vocab.errors import KeyFileError
from vocab.principal import ED25519_DER_PREFIX

MAX_PEM_BYTES = 16 * 1024
"""A PEM private key is a few hundred bytes; anything much larger is not one."""
SIGNATURE_BYTES = 64
_SECRETS: dict[int, tuple[Ed25519PrivateKey, bytes, bytes]] = {}
"""libsodium's 64-byte secret key and the raw public key of each private key object used
lately, by the object's id (the object is kept alongside, so an id reused by another key
never matches): a client signing each request asks for both every time."""
_SECRETS_LIMIT = 4096
_SIGNED: dict[tuple[bytes, bytes], bytes] = {}
"""The signatures made lately, by (libsodium secret key, message): signing is deterministic
(RFC 8032), so signing the same message again with the same key gives these bytes. The
simulator checks a signature by one of its own node keys by signing its message again
(``subnet.sim.runner.MemoVerifier``): the signer has just made it, so that is a look-up."""
_SIGNED_LIMIT = 4096
_SIGNED_MESSAGE_BYTES = 256
"""Only short messages are remembered (every signed message here is a domain and a hash
or two), so the memory stays bounded whatever is signed."""


@functools.lru_cache(maxsize=256)
def domain(separator: str) -> bytes:
    """The IC's domain separator: one length byte, then the ASCII tag (remembered: a
    handful of separators are asked for on every signature)."""
    tag = separator.encode("ascii")
    if len(tag) > 255:
        raise ValueError("a domain separator is at most 255 bytes")
    return bytes([len(tag)]) + tag


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return _keypair(key)[2]
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _keypair(key: Ed25519PrivateKey) -> tuple[Ed25519PrivateKey, bytes, bytes]:
    """``key`` with its libsodium secret key and raw public key, computed once (``_SECRETS``)."""
    entry = _SECRETS.get(id(key))
    if entry is None or entry[0] is not key:
        if len(_SECRETS) >= _SECRETS_LIMIT:
            _SECRETS.clear()
        public, secret = nacl.bindings.crypto_sign_seed_keypair(key.private_bytes_raw())
        entry = _SECRETS[id(key)] = (key, secret, public)
    return entry


def der_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    return ED25519_DER_PREFIX + raw_public_key(key)


def raw_from_der(der: bytes) -> bytes | None:
    """The 32-byte key inside an Ed25519 SubjectPublicKeyInfo, or None if it is not one."""
    if len(der) != len(ED25519_DER_PREFIX) + 32 or not der.startswith(ED25519_DER_PREFIX):
        return None
    return der[len(ED25519_DER_PREFIX) :]


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM: how identities and node keys are stored."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def parse_private_key_pem(data: bytes, source: str) -> Ed25519PrivateKey:
    """Load an unencrypted PKCS#8 Ed25519 private key, or say why it is not one.

    Users' identities (``client.identity``) and replicas' node keys (``python -m node``)
    are both such files; ``source`` names the file in the error.
    """
    if len(data) > MAX_PEM_BYTES:
        raise KeyFileError(f"{source}: {len(data)} bytes is too large for a PEM key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:
        raise KeyFileError(f"{source}: encrypted PEM keys are not supported") from exc
    except (ValueError, UnicodeError) as exc:
        raise KeyFileError(f"{source}: not a PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(
            f"{source}: the key is {type(key).__name__.removeprefix('_')}, not an Ed25519 private key"
        )
    return key


def sign(key: Ed25519PrivateKey, separator: str, message: bytes) -> bytes:
    return sign_plain(key, domain(separator) + message)


def sign_plain(key: Ed25519PrivateKey, message: bytes) -> bytes:
    """The Ed25519 signature of ``message`` as it is (the same bytes as ``key.sign``)."""
    secret = _keypair(key)[1]
    if len(message) > _SIGNED_MESSAGE_BYTES:
        return nacl.bindings.crypto_sign(message, secret)[:SIGNATURE_BYTES]
    memo = (secret, message)
    signature = _SIGNED.get(memo)
    if signature is None:
        if len(_SIGNED) >= _SIGNED_LIMIT:
            _SIGNED.clear()
        signature = _SIGNED[memo] = nacl.bindings.crypto_sign(message, secret)[:SIGNATURE_BYTES]
    return signature


def verify(raw_public: bytes, signature: bytes, separator: str, message: bytes) -> bool:
    """True if the signature is valid; any malformed key or signature is simply invalid."""
    return verify_plain(raw_public, signature, domain(separator) + message)


def verify_plain(raw_public: bytes, signature: bytes, message: bytes) -> bool:
    """Ed25519 verification of ``message`` as it is, for schemes that separate domains
    themselves (Sui signs a Blake2b hash of an intent message)."""
    if len(raw_public) != 32 or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, raw_public)
    except (BadSignatureError, ValueError):
        return False
    return True
