"""Proving a run of finalized blocks: on restart (from disk) and in catch-up (from a peer).

A finalization covers its block and, through the parent hashes, every ancestor. So a
run of consecutive blocks above a known finalized tip is proven up to the highest block
that some valid finalization names; anything above that is refused. The same check
serves a replica replaying its own store and one trusting nobody in particular, which is
why it takes nothing on faith: a Byzantine peer can send any bytes, and a corrupted or
half-written store must not make a replica finalize something its peers did not.
"""

from __future__ import annotations

from collections.abc import Sequence

from node.consensus.icc.artifacts import FINALIZATION_DOMAIN, Block, Finalization
from vocab import crypto
from vocab.committee import Committee, Verifier


def prove_run(
    tip: Block | None,
    blocks: Sequence[Block],
    finalizations: Sequence[Finalization],
    committee: Committee,
    verify: Verifier = crypto.verify,
) -> tuple[list[tuple[Block, Finalization]], str | None]:
    """The proven prefix of ``blocks`` (each with the finalization that covers it), and
    why the rest, if any, was refused. With no ``tip`` the run starts anywhere (a pruned
    chain, a catch-up package): its first block is proven, like the others, only by a
    finalization of it or of a descendant it links to."""
    linked: list[Block] = []
    problem: str | None = None
    previous = tip
    for block in blocks:
        if previous is None:
            if block.height < 1:
                problem = "a run starts above the genesis block"
                break
        elif block.height != previous.height + 1 or block.parent != previous.hash:
            problem = f"block at height {block.height} does not extend height {previous.height}"
            break
        linked.append(block)
        previous = block
    by_height = {block.height: block for block in linked}
    proofs: dict[int, Finalization] = {}
    for finalization in finalizations:
        named = by_height.get(finalization.height)
        if named is None or named.hash != finalization.block_hash:
            continue
        if finalization.height in proofs:
            continue
        error = committee.quorum_error(
            FINALIZATION_DOMAIN,
            finalization.signed_bytes,
            finalization.signers,
            finalization.signatures,
            verify,
        )
        if error is not None:
            problem = f"finalization at height {finalization.height}: {error}"
            continue
        proofs[finalization.height] = finalization
    proven: list[tuple[Block, Finalization]] = []
    covering = sorted(proofs)
    cursor = 0
    for block in linked:
        while cursor < len(covering) and covering[cursor] < block.height:
            cursor += 1
        if cursor == len(covering):
            if problem is None:
                problem = f"no finalization covers height {block.height}"
            break
        proven.append((block, proofs[covering[cursor]]))
    return proven, problem
