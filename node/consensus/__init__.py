"""Internet Computer Consensus, simplified (DESIGN.md 3.2): plain state machines, no I/O.

``icc.Icc`` is the protocol; ``ranking`` says who proposes first at a height, ``block``
what makes a block valid, ``pool`` what artifacts are kept and for how long, ``chain`` how
a sequence of finalized blocks is proven.
"""
