"""subnet: a simulator of a multi-replica blockchain subnet (shared vocabulary and orchestration)."""
