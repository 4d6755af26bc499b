"""The command-line client: a thin layer over the REST API (no ZooKeeper, no Flask)."""
