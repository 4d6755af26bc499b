"""The local Mesos: a master and agents speaking the Mesos v1 HTTP API (scheduler and executor).

It lets the unmodified pymesos drivers run on one machine, in tests and in ``standalone``;
README.rst, "Local Mesos fidelity", lists what it emulates and what it does not. It imports nothing else
from ``elasticjob_cloud``.
"""

from .cluster import DEFAULT_RESOURCES, LocalMesosCluster

__all__ = ["DEFAULT_RESOURCES", "LocalMesosCluster"]
