"""Internet Computer Consensus (ICC), simplified as DESIGN.md 3.2: one implementation of
``node.consensus.protocol.Consensus``.

``core.Icc`` is the state machine; ``ranking`` says who proposes first at a height,
``validation`` what makes a block valid short of its payload, ``pool`` which artifacts
are kept and for how long, ``chain`` how a run of finalized blocks is proven, and
``artifacts`` what replicas send each other (ICC's block with its rank and proposer,
proposals, notarization and finalization shares and their aggregates, catch-up).
"""

from node.consensus.icc.artifacts import (
    Block,
    BlockProposal,
    CatchUpPackage,
    CatchUpRequest,
    CatchUpResponse,
    Finalization,
    FinalizationShare,
    Notarization,
    NotarizationShare,
    genesis_block,
)
from node.consensus.icc.core import Icc

__all__ = [
    "Block",
    "BlockProposal",
    "CatchUpPackage",
    "CatchUpRequest",
    "CatchUpResponse",
    "Finalization",
    "FinalizationShare",
    "Icc",
    "Notarization",
    "NotarizationShare",
    "genesis_block",
]
