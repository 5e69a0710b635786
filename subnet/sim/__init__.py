"""Simulated subnets: every replica in one trio run, on an in-memory network, in virtual
time, reproducible from a seed (DESIGN.md 6). Start with ``runner.Simulation``."""

from subnet.sim.runner import SimConfig, SimResult, Simulation, simulate

__all__ = ["SimConfig", "SimResult", "Simulation", "simulate"]
