"""The in-memory network of a simulated subnet: who can reach whom, how late, how often.

Decisions are made when a message is sent (loss, duplication, latency) and checked again
when it arrives (a partition that began in flight still cuts it). Every draw comes from
the simulation's one seeded generator, in the order messages are sent, which the event
queue makes deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from subnet.sim.latency import Constant, LatencyModel


class SimNetwork:
    def __init__(
        self,
        n: int,
        rng: random.Random,
        latency: LatencyModel | None = None,
        loss: float = 0.0,
        duplication: float = 0.0,
    ) -> None:
        if not 0.0 <= loss < 1.0:
            raise ValueError("loss must be a probability in [0, 1)")
        if not 0.0 <= duplication < 1.0:
            raise ValueError("duplication must be a probability in [0, 1)")
        self.n = n
        self.rng = rng
        self.latency = latency or Constant(10_000_000)
        self.loss = loss
        self.duplication = duplication
        self._group: list[int] | None = None
        self.blocked_links: dict[tuple[int, int], None] = {}
        self.extra_delay_ns: dict[int, int] = {}
        """Added to every delay of a message from this sender (a latency fault)."""

    def partition(self, groups: Sequence[Sequence[int]]) -> None:
        """Split the nodes; a node in no group is alone."""
        group_of = [-1 - node for node in range(self.n)]
        for position, group in enumerate(groups):
            for node in group:
                if not 0 <= node < self.n:
                    raise ValueError(f"no node {node} in a subnet of {self.n}")
                group_of[node] = position
        self._group = group_of

    def heal(self) -> None:
        self._group = None
        self.blocked_links.clear()

    def block_link(self, src: int, dst: int) -> None:
        self.blocked_links[(src, dst)] = None

    def connected(self, src: int, dst: int) -> bool:
        if self.blocked_links and (src, dst) in self.blocked_links:
            return False
        return self._group is None or self._group[src] == self._group[dst]

    def delays(self, src: int, dst: int) -> list[int]:
        """The delivery delays (ns) of one message: none if lost, two if duplicated."""
        if not self.connected(src, dst):
            return []
        if self.loss and self.rng.random() < self.loss:
            return []
        extra = self.extra_delay_ns.get(src, 0) if self.extra_delay_ns else 0
        delays = [self.latency.sample(self.rng, src, dst) + extra]
        if self.duplication and self.rng.random() < self.duplication:
            delays.append(self.latency.sample(self.rng, src, dst) + extra)
        return delays

    def client_delays(self, home: int, replica: int, *, to_client: bool) -> list[int]:
        """The delivery delays of one message between a client and a replica, both ways
        (``to_client``: the replica's answer). A client sits beside its *home* replica: a
        partition puts it on its home's side, and its link to a replica has the latency of
        the home's link to it (the model's draw; for the home itself, the model's own link).
        Loss and duplication apply as between replicas; a latency fault delays what its
        targets send, so a replica's answers, not the client's requests."""
        src, dst = (replica, home) if to_client else (home, replica)
        if not self.connected(src, dst):
            return []
        if self.loss and self.rng.random() < self.loss:
            return []
        extra = self.extra_delay_ns.get(replica, 0) if to_client else 0
        delays = [self.latency.sample(self.rng, src, dst) + extra]
        if self.duplication and self.rng.random() < self.duplication:
            delays.append(self.latency.sample(self.rng, src, dst) + extra)
        return delays
