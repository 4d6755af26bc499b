"""ZooKeeper-backed stores (the only package that imports kazoo) and their in-memory twins."""

from __future__ import annotations

from dataclasses import dataclass

from .dependencies import DependencyStore
from .fencing import FencedTree
from .fires import FireStore
from .ledger import Ledger
from .memory import MemoryTree
from .stores import ConfigStore, DisableStore, FailoverQueue, FrameworkIdStore, ReadyQueue, RunningStore
from .tree import Tree
from .triggers import TriggeredRuns
from .unschedulable import UnschedulableMarks
from .zookeeper import KazooTree, ZooKeeperConnection


@dataclass
class Registry:
    """Every store over one tree."""

    tree: Tree
    config: ConfigStore
    disable: DisableStore
    ready: ReadyQueue
    failover: FailoverQueue
    running: RunningStore
    framework_id: FrameworkIdStore
    fires: FireStore
    triggered: TriggeredRuns
    dependencies: DependencyStore
    ledger: Ledger
    unschedulable: UnschedulableMarks

    @classmethod
    def over(cls, tree: Tree, queue_size: int = 10000) -> Registry:
        return cls(
            tree=tree,
            config=ConfigStore(tree),
            disable=DisableStore(tree, queue_size),
            ready=ReadyQueue(tree, queue_size),
            failover=FailoverQueue(tree, queue_size),
            running=RunningStore(tree),
            framework_id=FrameworkIdStore(tree),
            fires=FireStore(tree, queue_size),
            triggered=TriggeredRuns(tree, queue_size),
            dependencies=DependencyStore(tree),
            ledger=Ledger(tree),
            unschedulable=UnschedulableMarks(tree),
        )

    def fenced(self, election_node: str) -> Registry:
        """The same stores, every write guarded by ``election_node`` (``registry.fencing``): what
        one leadership of the scheduler writes through."""
        return Registry.over(FencedTree(self.tree, election_node), self.fires.queue_size)

    @classmethod
    def in_memory(cls, queue_size: int = 10000) -> Registry:
        return cls.over(MemoryTree(), queue_size)


def connect(
    servers: str,
    namespace: str = "elastic-job-cloud",
    digest: str = "",
    queue_size: int = 10000,
    session_timeout: float = 10.0,
    operation_timeout: float = 5.0,
) -> tuple[Registry, ZooKeeperConnection]:
    """A registry over a real ZooKeeper; returns it with the connection (call ``.stop()`` on it)."""
    connection = ZooKeeperConnection(
        servers, namespace, digest, session_timeout=session_timeout, operation_timeout=operation_timeout
    ).start()
    return Registry.over(KazooTree(connection), queue_size), connection
