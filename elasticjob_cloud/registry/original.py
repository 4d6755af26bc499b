"""Read-only reading of an original Elastic-Job-Cloud's ZooKeeper namespace, for migration.

The original stores ``/config/app/{app}`` and ``/config/job/{job}`` as JSON in 2.x and as YAML
(``CloudAppConfigurationPOJO`` / ``CloudJobConfigurationPOJO``) in 3.x, and its disable marks at
``/state/disable/app/{app}`` and ``/state/disable/job/{job}``. This reads them as they are, with
its own short-lived session, writing nothing (a missing namespace is an error, not created); what
the records mean is decided above (``commands.backup``, ``core.pojo3``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from ..exceptions import NotFound, RegistryUnavailable


@dataclass
class OriginalRecord:
    name: str
    layout: str  # "json" (2.x) or "yaml" (3.x)
    data: dict[str, Any]


@dataclass
class OriginalNamespace:
    apps: list[OriginalRecord] = field(default_factory=list)
    jobs: list[OriginalRecord] = field(default_factory=list)
    disabled_apps: set[str] = field(default_factory=set)
    disabled_jobs: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # nodes that could not be read


def parse_record(text: str) -> tuple[str, Any]:
    """``("json", …)`` for a 2.x node, ``("yaml", …)`` for a 3.x one."""
    stripped = text.strip()
    if stripped.startswith("!!"):  # a SnakeYAML class tag: the mapping after it is the record
        stripped = stripped.split(None, 1)[1] if len(stripped.split(None, 1)) > 1 else ""
    if stripped.startswith("{"):
        return "json", json.loads(stripped)
    return "yaml", yaml.safe_load(stripped)


def read_namespace(hosts: str, namespace: str, digest: str = "", timeout: float = 15.0) -> OriginalNamespace:
    """Every app, job and disable mark under ``/{namespace}`` of ``hosts`` (``h:p[,h:p][/chroot]``)."""
    auth = [("digest", digest)] if digest else None
    client = KazooClient(hosts=hosts, timeout=timeout, auth_data=auth, read_only=True)
    try:
        client.start(timeout)
    except (KazooException, KazooTimeoutError) as exc:
        raise RegistryUnavailable(f"cannot connect to ZooKeeper at {hosts}: {type(exc).__name__}") from None
    try:
        root = "/" + namespace.strip("/")
        if client.exists(root) is None:
            raise NotFound(f"no namespace {root} on ZooKeeper {hosts}")
        found = OriginalNamespace()
        found.apps = _records(client, f"{root}/config/app", found.problems)
        found.jobs = _records(client, f"{root}/config/job", found.problems)
        found.disabled_apps = set(_children(client, f"{root}/state/disable/app"))
        found.disabled_jobs = set(_children(client, f"{root}/state/disable/job"))
        return found
    except KazooException as exc:
        raise RegistryUnavailable(f"reading ZooKeeper at {hosts} failed: {type(exc).__name__}") from None
    finally:
        client.stop()
        client.close()


def _children(client: KazooClient, path: str) -> list[str]:
    try:
        return sorted(client.get_children(path))
    except NoNodeError:
        return []


def _records(client: KazooClient, parent: str, problems: list[str]) -> list[OriginalRecord]:
    records = []
    for name in _children(client, parent):
        path = f"{parent}/{name}"
        try:
            data, _ = client.get(path)
            layout, value = parse_record((data or b"").decode("utf-8"))
        except NoNodeError:
            continue  # deleted while we read
        except (UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
            problems.append(f"{path}: unreadable ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        if not isinstance(value, dict):
            problems.append(f"{path}: not an object")
            continue
        records.append(OriginalRecord(name, layout, value))
    return records
