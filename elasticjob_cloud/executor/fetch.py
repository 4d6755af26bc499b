"""Download the app (http, https, file) with a timeout and a size limit, and the agent-wide cache.

The cache is a directory shared by every executor on the agent. An entry is keyed by the SHA-256
of the URL and written as a temporary file renamed into place, under an exclusive ``flock`` on a
per-key lock file: two executors that want the same app at the same time download it once, and
a reader never sees a half-written file. An entry is never invalidated by the executor (as with the
Mesos fetcher cache, publish a new version under a new URL); operators may delete the directory
at any time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from elasticjob_cloud.executor.archive import CHUNK, Limits, UnsafeArchive

log = logging.getLogger(__name__)

SCHEMES = ("http", "https", "file")
CACHE_DIR_ENV = "ELASTICJOB_CLOUD_APP_CACHE_DIR"


class FetchError(Exception):
    """The app could not be downloaded; the message says why (URL, status, limit)."""


def url_name(url: str) -> str:
    """The last path segment of ``url``: what the archive type is decided from."""
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def download(url: str, target: Path, limits: Limits) -> None:
    """Download ``url`` into ``target`` (created atomically); raise :class:`FetchError`."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise FetchError(f"unsupported URL scheme {scheme!r} in {url!r} (use http, https or file)")
    deadline = time.monotonic() + limits.download_timeout
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with urllib.request.urlopen(url, timeout=limits.download_timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_download_bytes:
                raise FetchError(
                    f"{url} is {declared} bytes, over the {limits.max_download_bytes} byte limit"
                )
            size = 0
            with open(partial, "wb") as out:
                while chunk := response.read(CHUNK):
                    size += len(chunk)
                    if size > limits.max_download_bytes:
                        raise FetchError(f"{url} exceeds the {limits.max_download_bytes} byte limit")
                    if time.monotonic() > deadline:
                        raise FetchError(f"{url} took longer than {limits.download_timeout:g} s")
                    out.write(chunk)
        os.replace(partial, target)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise FetchError(f"{url}: {exc.reason}") from None
    except (OSError, ValueError) as exc:
        raise FetchError(f"{url}: {exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    log.info("downloaded %s (%s bytes)", url, target.stat().st_size)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class AppCache:
    """Downloads shared by every executor of the agent, keyed by URL."""

    def __init__(self, root: Path):
        self.root = root

    def key(self, url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def get(self, url: str, limits: Limits) -> Path:
        """The cached download of ``url``, downloading it first if no executor has yet."""
        self.root.mkdir(parents=True, exist_ok=True)
        key = self.key(url)
        entry = self.root / f"{key}.app"
        if entry.exists():
            return entry
        with _locked(self.root / f"{key}.lock"):
            if not entry.exists():
                download(url, entry, limits)
            else:
                log.info("app %s was cached meanwhile by another executor", url)
        return entry


def default_cache_dir(sandbox: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where the agent-wide cache lives.

    ``ELASTICJOB_CLOUD_APP_CACHE_DIR`` if set; else next to the agent's ``slaves`` directory when
    the sandbox has the Mesos layout (``{work_dir}/slaves/{agent}/frameworks/…``), so the cache
    goes away with the agent's work dir; else a per-user directory under the system temp dir.
    """
    env = os.environ if environ is None else environ
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV])
    match = re.match(r"^(.*)/slaves/[^/]+/frameworks/", str(sandbox))
    if match and match.group(1):
        return Path(match.group(1)) / "elasticjob-app-cache"
    return Path(tempfile.gettempdir()) / f"elasticjob-cloud-app-cache-{os.getuid()}"


__all__ = ["AppCache", "FetchError", "UnsafeArchive", "default_cache_dir", "download", "url_name"]
