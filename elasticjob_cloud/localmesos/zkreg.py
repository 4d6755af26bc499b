"""Leader registration in ZooKeeper, so ``mesos_url=zk://host:port/path`` detection works.

A real master joins the group at ``path`` with an ``EPHEMERAL|SEQUENCE`` node
``json.info_<seq>`` holding its JSON ``MasterInfo``; pymesos's detector watches the children,
takes the lexicographically smallest and connects to its ``address.ip:address.port``. Deleting
the node (``stop``) or re-registering (master restart) moves schedulers, as a leader change does.
"""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger(__name__)

LABEL = "json.info_"


def parse_zk_url(url: str) -> tuple[str, str]:
    """``zk://h1:2181,h2:2181/chroot/mesos`` → ``("h1:2181,h2:2181", "/chroot/mesos")``."""
    for prefix in ("zk://", "zoo://"):
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            break
    else:
        raise ValueError(f"expected zk://host:port/path, got {url!r}")
    hosts, slash, path = rest.partition("/")
    if not hosts or not slash or not path.strip("/"):
        raise ValueError(f"expected zk://host:port/path, got {url!r}")
    if "@" in hosts:
        raise ValueError("ZooKeeper credentials in the URL are not supported")
    return hosts, "/" + path.strip("/")


class ZkRegistration:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.hosts, self.path = parse_zk_url(url)
        self.timeout = timeout
        self.node: str | None = None
        self._client: Any = None

    def start(self, master_info: dict[str, Any]) -> str:
        from kazoo.client import KazooClient

        self._client = KazooClient(hosts=self.hosts, timeout=self.timeout)
        self._client.start(timeout=self.timeout)
        return self.register(master_info)

    def register(self, master_info: dict[str, Any]) -> str:
        """(Re-)create this master's ephemeral sequential node; returns its path."""
        self.unregister()
        self._client.ensure_path(self.path)
        data = json.dumps(master_info).encode()
        self.node = self._client.create(f"{self.path}/{LABEL}", data, ephemeral=True, sequence=True)
        logger.info("registered master %s at %s%s", master_info.get("pid"), self.hosts, self.node)
        return str(self.node)

    def unregister(self) -> None:
        if self.node is not None and self._client is not None:
            try:
                self._client.delete(self.node)
            except Exception as exc:  # NoNodeError, connection loss: the session end removes it anyway
                logger.debug("could not delete %s: %s", self.node, exc)
            self.node = None

    def stop(self) -> None:
        if self._client is None:
            return
        self.unregister()
        try:
            self._client.stop()
            self._client.close()
        finally:
            self._client = None
