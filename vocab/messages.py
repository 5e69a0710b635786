"""Wire messages between a client and a replica's ingress.

Messages between replicas belong to the replica (``node.consensus.icc.artifacts`` for
consensus, ``node.ingress.IngressGossip``); all share the codec.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocab.codec import Message
from vocab.envelope import SignedEnvelope
from vocab.hashing import hash_of_map
from vocab.ingress_message import IngressMessage
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.signed import SignedTransaction


@dataclass(frozen=True)
class SubmitRequest(Message):
    """A client hands a signed request to a replica's ingress: an IC envelope, or a Sui
    transaction with its signatures (whose request id is its digest)."""

    TAG = "submit"
    envelope: IngressMessage


@dataclass(frozen=True)
class RequestRejected(Message):
    """Ingress refused a request; ``code`` is an IC reject code, ``reason`` a counter tag."""

    TAG = "rejected"
    request_id: bytes
    code: int
    reason: str
    message: str


@dataclass(frozen=True)
class PeerHello(Message):
    """A replica dialing another says who it claims to be."""

    TAG = "peer_hello"
    node_index: int
    protocol: str


@dataclass(frozen=True)
class PeerChallenge(Message):
    """The listener asks the dialer to prove it holds the claimed node key."""

    TAG = "peer_challenge"
    nonce: bytes


@dataclass(frozen=True)
class PeerAuth(Message):
    """Signature under the dialer's node key over the challenge and both indices."""

    TAG = "peer_auth"
    signature: bytes


@dataclass(frozen=True)
class RequestAccepted(Message):
    """Ingress checked the request and will gossip it; the result comes later, certified."""

    TAG = "accepted"
    request_id: bytes


@dataclass(frozen=True)
class AwaitReply(Message):
    """Ask a replica for the certified result of a request, waiting until it exists."""

    TAG = "await_reply"
    request_id: bytes
    timeout_ms: int


@dataclass(frozen=True)
class ReplyTimeout(Message):
    """The request has no certified result yet on this replica."""

    TAG = "reply_timeout"
    request_id: bytes


@dataclass(frozen=True)
class StatusRequest(Message):
    TAG = "status_request"


@dataclass(frozen=True)
class StatusReply(Message):
    """What `subnet status` shows for one replica."""

    TAG = "status_reply"
    node_index: int
    pid: int
    address: str
    height: int
    finalized_height: int
    certified_height: int
    peers_out: list[int]
    peers_in: list[int]
    last_error: str
    rejected: dict[str, int]
    checkpoint_height: int = 0
    """The checkpoint this replica's execution restarted from (0: replayed from height 1)."""
    replayed_heights: int = 0
    """Finalized blocks it executed again when it started (those above that checkpoint)."""
    sui_epoch: int = 0
    """The Sui epoch of its executed state (epochs change through consensus)."""


QUERY_RESPONSE_DOMAIN = "ic-response"
"""Node signatures on query responses: ``"\\x0Bic-response" · hash`` (the IC's separator)."""


@dataclass(frozen=True)
class QueryRequest(Message):
    """A client asks one replica to run a query (``request_type`` "query") on its state,
    without consensus: the fast path."""

    TAG = "query"
    envelope: SignedEnvelope


@dataclass(frozen=True)
class RehearseUpgradeRequest(Message):
    """A client asks one replica to rehearse a canister upgrade on a copy of its latest
    certified state, changing nothing: ``envelope`` is the management canister's
    ``install_code`` (mode upgrade) signed by the caller with request type ``query``, so
    that it can never be submitted as the real upgrade. The answer is a ``QueryResponse``
    whose reply is the rehearsal's report (JSON)."""

    TAG = "rehearse_upgrade"
    envelope: SignedEnvelope


SUI_READ_METHODS = (
    "sui_getObject",
    "suix_getOwnedObjects",
    "sui_getTransactionBlock",
    "sui_getNormalizedMoveFunction",
    "sui_dryRunTransactionBlock",
    "subnet_dryRunTransactionBlocks",
    "sui_devInspectTransactionBlock",
)
"""The reads of Sui state a replica answers, named after Sui's JSON-RPC methods (the
``subnet_`` one is the subnet's own: a dry run of several transactions in sequence)."""
MAX_SUI_READ_PARAMS = 4096
"""Bytes of JSON parameters a read may carry."""
SUI_TRANSACTION_READS = (
    "sui_dryRunTransactionBlock",
    "subnet_dryRunTransactionBlocks",
    "sui_devInspectTransactionBlock",
)
"""Reads that carry whole transactions (an upgrade carries its modules)."""
MAX_SUI_TRANSACTION_READ_PARAMS = 6 * 1024 * 1024
"""Bytes of JSON parameters those may carry (below the 8 MiB frame limit)."""


@dataclass(frozen=True)
class SuiReadRequest(Message):
    """A client asks one replica to read Sui state (an object, an address's objects, an
    executed transaction) from its latest certified state, without consensus; the answer
    is a ``QueryResponse`` whose reply is the JSON Sui's RPC would give. ``params`` is a
    JSON array, as in a JSON-RPC call."""

    TAG = "sui_read"
    method: str
    params: bytes

    def __post_init__(self) -> None:
        if self.method not in SUI_READ_METHODS:
            raise ValueError(f"unknown Sui read {self.method!r}; known: {', '.join(SUI_READ_METHODS)}")
        limit = (
            MAX_SUI_TRANSACTION_READ_PARAMS if self.method in SUI_TRANSACTION_READS else MAX_SUI_READ_PARAMS
        )
        if len(self.params) > limit:
            raise ValueError(f"read parameters of {len(self.params)} bytes exceed {limit}")

    @property
    def request_id(self) -> bytes:
        """What the signed answer names: the hash of the method and its parameters."""
        return hash_of_map({"sui_read": self.method, "params": self.params})


@dataclass(frozen=True)
class QueryResponse(Message):
    """A replica's answer to a query, signed by its node key.

    The signature covers ``digest``: the representation-independent hash of the request
    id, the outcome (reply, or reject code, message and error code) and the height and
    block time of the state the query ran on. A client checks it against the genesis
    committee; one replica's word is all it is, hence ``replicas_agree`` in the agent.
    """

    TAG = "query_response"
    request_id: bytes
    node_index: int
    height: int
    time_ns: int
    status: str
    reply: bytes
    reject_code: int
    reject_message: str
    error_code: str
    signature: bytes

    @property
    def digest(self) -> bytes:
        return query_response_digest(
            self.request_id,
            self.height,
            self.time_ns,
            self.status,
            self.reply,
            self.reject_code,
            self.reject_message,
            self.error_code,
        )

    def outcome(self) -> tuple[str, bytes, int, str, str]:
        """What two replicas must agree on (heights and signatures may differ)."""
        return (self.status, self.reply, self.reject_code, self.reject_message, self.error_code)


def query_response_digest(
    request_id: bytes,
    height: int,
    time_ns: int,
    status: str,
    reply: bytes,
    reject_code: int,
    reject_message: str,
    error_code: str,
) -> bytes:
    fields: dict = {"request_id": request_id, "height": height, "time": time_ns, "status": status}
    if status == "replied":
        fields["reply"] = reply
    else:
        fields.update(reject_code=reject_code, reject_message=reject_message, error_code=error_code)
    return hash_of_map(fields)


@dataclass(frozen=True)
class SuiVoteRequest(Message):
    """The fast path's first step (``vocab.sui.certificate``): a client asks one replica to
    check a signed transaction, lock its owned inputs for it and vote for it."""

    TAG = "sui_vote_request"
    transaction: SignedTransaction


@dataclass(frozen=True)
class SuiVote(Message):
    """A replica's vote for a transaction in ``epoch`` (``signature`` under its node key,
    ``vocab.sui.certificate.sign_vote``), or its refusal: ``error`` is Sui's name for it
    (``ObjectLockConflict`` naming the transaction holding the lock in ``message``,
    ``ObjectVersionUnavailableForConsumption``...) and the signature is empty."""

    TAG = "sui_vote"
    digest: bytes
    node_index: int
    epoch: int
    signature: bytes
    error: str
    message: str


@dataclass(frozen=True)
class SuiCertificateRequest(Message):
    """The fast path's second step: a client hands a certificate to a replica, which
    executes it at once if it touches only owned and immutable objects (and sequences it
    through consensus afterwards), or orders it through consensus first if it has shared
    inputs (then the answer waits for the certified result, as ``AwaitReply`` does)."""

    TAG = "sui_certificate"
    certificate: CertifiedTransaction


@dataclass(frozen=True)
class SuiSignedEffects(Message):
    """A replica's signed effects of an executed certificate: ``response`` is the JSON
    Sui's RPC gives for the transaction, ``effects_digest`` the effects' digest, both under
    ``signature`` (``vocab.sui.certificate.sign_effects``). 2f+1 matching ones from
    distinct replicas are finality. ``error`` (Sui's name) is set, and the rest empty, when
    the replica could not execute the certificate (``CertificateRequiresQuorum``,
    ``InvalidSignature``, inputs not available on it yet...)."""

    TAG = "sui_signed_effects"
    digest: bytes
    node_index: int
    epoch: int
    effects_digest: bytes
    response: bytes
    signature: bytes
    error: str
    message: str


LINK_CONTROL_DOMAIN = "subnet-link-control"
"""Signatures on ``LinkControl``: the controlled replica's own node key."""

PPM = 1_000_000
"""``LinkControl`` probabilities are integers in parts per million (no floats on the wire
or in the draws)."""


@dataclass(frozen=True)
class LinkControl(Message):
    """An operator's fault settings for one replica's links and clock, replacing the
    previous ones: drop all traffic, both ways, with the ``blocked`` peers (empty: none);
    hold every frame it sends for ``delay_ns`` more; lose each frame it sends to a peer
    with probability ``loss_ppm`` / 1e6 and send it twice with probability
    ``duplication_ppm`` / 1e6, drawn from a generator seeded with ``seed`` and the
    replica's index; run its clock ``clock_offset_ns`` ahead of the host's (behind if
    negative); behave as ``behaviour`` says (``honest``, ``silent``: send nothing,
    ``garbage``: random bytes for its own signatures, ``node.byzantine``; ``equivocator``,
    ``double-voter``: attacks on consensus, ``node.consensus.icc.attacks``); dial peer
    ``redirect_peer`` at ``redirect_address`` (``HOST:PORT``) instead of its committee
    address, where a twin of it (a process with its key) listens (-1: every peer at its
    own). All zero and
    honest: a healthy replica. The replica applies it only if it is signed
    with its own node key (whoever holds the key operates the replica: the fault nemesis
    of scenarios on processes) and ``sequence`` is above every one it applied since it
    started, so that a recorded message cannot be replayed."""

    TAG = "link_control"
    node_index: int
    sequence: int
    blocked: list[int]
    signature: bytes
    delay_ns: int = 0
    loss_ppm: int = 0
    duplication_ppm: int = 0
    clock_offset_ns: int = 0
    seed: int = 0
    behaviour: str = "honest"
    redirect_peer: int = -1
    redirect_address: str = ""

    @staticmethod
    def signed_bytes(
        node_index: int,
        sequence: int,
        blocked: list[int],
        delay_ns: int = 0,
        loss_ppm: int = 0,
        duplication_ppm: int = 0,
        clock_offset_ns: int = 0,
        seed: int = 0,
        behaviour: str = "honest",
        redirect_peer: int = -1,
        redirect_address: str = "",
    ) -> bytes:
        """Every field but the signature, fixed-width (the blocked list and the behaviour's
        and the address's UTF-8 text counted first)."""
        name = behaviour.encode()
        address = redirect_address.encode()
        return (
            node_index.to_bytes(4, "big")
            + sequence.to_bytes(8, "big")
            + len(blocked).to_bytes(4, "big")
            + b"".join(peer.to_bytes(4, "big") for peer in blocked)
            + delay_ns.to_bytes(8, "big")
            + loss_ppm.to_bytes(4, "big")
            + duplication_ppm.to_bytes(4, "big")
            + clock_offset_ns.to_bytes(8, "big", signed=True)
            + seed.to_bytes(8, "big")
            + len(name).to_bytes(4, "big")
            + name
            + redirect_peer.to_bytes(4, "big", signed=True)
            + len(address).to_bytes(4, "big")
            + address
        )

    def payload(self) -> bytes:
        """What the signature covers."""
        return LinkControl.signed_bytes(
            self.node_index,
            self.sequence,
            self.blocked,
            self.delay_ns,
            self.loss_ppm,
            self.duplication_ppm,
            self.clock_offset_ns,
            self.seed,
            self.behaviour,
            self.redirect_peer,
            self.redirect_address,
        )


@dataclass(frozen=True)
class LinkControlReply(Message):
    """Whether a ``LinkControl`` was applied, and if not, why."""

    TAG = "link_control_reply"
    sequence: int
    applied: bool
    reason: str
