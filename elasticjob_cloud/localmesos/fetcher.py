"""The agent's fetcher: ``CommandInfo.uris`` into the sandbox before the executor starts.

The original framework ships apps through the Mesos fetcher (download, extract, ``cache``), so
the emulation covers what it uses: ``http``/``https``/``file`` URIs and plain paths, archive
extraction (tar, tar.gz/tgz, tar.bz2, tar.xz, zip) with path-traversal protection,
``executable``, ``output_file`` and a per-agent cache keyed by URI.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import threading
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".zip")
DOWNLOAD_TIMEOUT = 60.0


class FetchError(Exception):
    """A URI could not be fetched or extracted (the task fails with a launch error)."""


class Fetcher:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def fetch_all(self, uris: list[dict[str, Any]], sandbox: Path) -> None:
        for uri in uris or []:
            self.fetch(uri, sandbox)

    def fetch(self, uri: dict[str, Any], sandbox: Path) -> Path:
        value = str(uri.get("value") or "")
        if not value:
            raise FetchError("URI without a value")
        name = uri.get("output_file") or os.path.basename(urllib.parse.urlparse(value).path) or "download"
        if "/" in name or name in (".", ".."):
            raise FetchError(f"bad output_file {name!r}")
        target = sandbox / name
        try:
            if uri.get("cache"):
                self._cached_copy(value, target)
            else:
                _download(value, target)
            if uri.get("executable"):
                target.chmod(0o755)
            elif uri.get("extract", True) and name.endswith(ARCHIVE_SUFFIXES):
                extract(target, sandbox)
        except FetchError:
            raise
        except (OSError, ValueError, tarfile.TarError, zipfile.BadZipFile) as exc:
            raise FetchError(f"Failed to fetch {value}: {exc}") from exc
        logger.debug("fetched %s into %s", value, target)
        return target

    def _cached_copy(self, value: str, target: Path) -> None:
        key = hashlib.sha256(value.encode()).hexdigest()[:32]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self.cache_dir / key / target.name
            if not cached.exists():
                cached.parent.mkdir(parents=True, exist_ok=True)
                partial = cached.with_name(cached.name + ".partial")
                _download(value, partial)
                partial.replace(cached)
        shutil.copyfile(cached, target)


def _download(value: str, target: Path) -> None:
    parsed = urllib.parse.urlparse(value)
    if parsed.scheme in ("http", "https"):
        with urllib.request.urlopen(value, timeout=DOWNLOAD_TIMEOUT) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out)
    elif parsed.scheme == "file" or (not parsed.scheme and value.startswith("/")):
        source = urllib.request.url2pathname(parsed.path) if parsed.scheme else value
        shutil.copyfile(source, target)
    else:
        raise FetchError(f"unsupported URI scheme {parsed.scheme or value!r} (http, https, file only)")


def extract(archive: Path, destination: Path) -> None:
    """Extract into ``destination``; members escaping it (``../``, absolute, links out) fail."""
    root = destination.resolve()
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if not (root / member).resolve().is_relative_to(root):
                    raise FetchError(f"archive member {member!r} escapes the sandbox")
            zf.extractall(root)
            for info in zf.infolist():
                mode = info.external_attr >> 16
                if mode & 0o111:
                    (root / info.filename).chmod(mode & 0o777)
        return
    with tarfile.open(archive) as tf:
        try:
            tf.extractall(root, filter="data")
        except tarfile.FilterError as exc:
            raise FetchError(f"unsafe archive {archive.name}: {exc}") from exc
