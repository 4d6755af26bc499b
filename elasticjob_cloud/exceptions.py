"""The project's exception hierarchy, mapped to HTTP status codes in one place (``rest.errors``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ElasticJobError(Exception):
    """Base class: every error the project raises on purpose."""

    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidConfig(ElasticJobError):
    """Bad input. ``errors`` maps each offending field to its messages."""

    status = 400

    def __init__(self, message: str, errors: Mapping[str, Sequence[str]] | None = None):
        super().__init__(message)
        self.errors = {field: list(messages) for field, messages in (errors or {}).items()}

    @classmethod
    def field(cls, name: str, message: str) -> InvalidConfig:
        return cls(f"{name}: {message}", {name: [message]})


class UnknownReference(InvalidConfig):
    """A field names an app (or job) that does not exist: 404, with the field named."""

    status = 404


class InconsistentChange(InvalidConfig):
    """A partial update, valid field by field, that would leave the record invalid given what is
    stored (e.g. ``jobType: SCRIPT`` for a job without ``scriptCommandLine``): 409, fields named."""

    status = 409


class PayloadTooLarge(ElasticJobError):
    """A request body, or a record about to be written to ZooKeeper, is over its size limit."""

    status = 413


class NotFound(ElasticJobError):
    status = 404


class AlreadyExists(ElasticJobError):
    status = 409


class Conflict(ElasticJobError):
    """The request is well formed but not allowed in the current state (e.g. trigger a DAEMON job)."""

    status = 409


class TooManyRequests(ElasticJobError):
    status = 429


class QueueFull(ElasticJobError):
    """A state queue reached ``job_state_queue_size``: the add is refused, never silently dropped."""

    status = 503


class RegistryUnavailable(ElasticJobError):
    """ZooKeeper cannot be reached (connection lost, session expired, timeout)."""

    status = 503


class Deposed(RegistryUnavailable):
    """A write of a leadership whose election node is gone (its session expired: another instance
    may lead now). Refused by ZooKeeper in the same transaction, so a paused and resumed leader
    cannot write, and therefore cannot launch, before it notices and steps down."""


class NotLeader(ElasticJobError):
    """The operation needs the elected leader; ``leader_url`` is where it is, if known."""

    status = 503

    def __init__(self, message: str, leader_url: str | None = None):
        super().__init__(message)
        self.leader_url = leader_url


class MesosUnavailable(ElasticJobError):
    """The Mesos master or an agent cannot be reached, or answered something unreadable."""

    status = 503


class AgentUnavailable(MesosUnavailable):
    """A Mesos agent (not the master) cannot be reached or answered an error: a bad gateway."""

    status = 502


class AgentTimeout(AgentUnavailable):
    """A Mesos agent did not answer in time."""

    status = 504


class Unauthorized(ElasticJobError):
    """No credential, or a wrong one (answered with a ``WWW-Authenticate: Basic`` challenge)."""

    status = 401


class Forbidden(ElasticJobError):
    """A known user whose role does not allow the request (a viewer's write, a missing CSRF token)."""

    status = 403


class TraceUnavailable(ElasticJobError):
    """The event trace database is not configured, or cannot be reached right now."""

    status = 503
