"""One replica: ingress, consensus, execution, state, storage, catch-up."""
