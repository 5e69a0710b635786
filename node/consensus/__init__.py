"""Consensus: how the replicas of a subnet agree on one chain of blocks (DESIGN.md 3.2).

``protocol`` is the interface every protocol implements (events in, one ``Step`` out);
``block`` is all the rest of a replica knows of a block and its proof; ``icc`` is
Internet Computer Consensus, the protocol in use. Another protocol would be a sibling
package of ``icc``.

The package imports nothing itself, so that importing ``node.consensus.block`` does not
drag a protocol in.
"""

__all__ = ["block", "icc", "protocol"]
