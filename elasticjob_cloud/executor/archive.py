"""Safe unpacking of a downloaded app into a fresh directory.

The app archive comes from a URL an operator typed in, so it is untrusted input. Every archive is
checked in two passes:

1. *Before anything is written*, every member is checked lexically: no absolute path, no ``..``
   that leaves the directory, no device, FIFO or other special file, symlink and hard-link targets
   inside, and the declared sizes and member count within :class:`Limits` (a bomb is refused
   from its headers, without inflating it).
2. *While writing*, every path is re-checked against the real file system (``realpath``), which
   catches a chain of individually harmless links that together point outside, and the bytes
   actually written are counted (a zip header may lie about its size).

Any violation raises :class:`UnsafeArchive`; the partially written directory is removed, and
nothing outside it was ever touched. A file that is not an archive (by URL suffix, as the Mesos
fetcher decides) is saved as is and made executable: a bare script can be an app.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

TAR_SUFFIXES = {
    ".tar": "r:",
    ".tar.gz": "r:gz",
    ".tgz": "r:gz",
    ".tar.bz2": "r:bz2",
    ".tbz2": "r:bz2",
    ".tar.xz": "r:xz",
    ".txz": "r:xz",
}
ARCHIVE_SUFFIXES = (*TAR_SUFFIXES, ".zip", ".gz")
CHUNK = 1 << 16
MIB = 1 << 20


class UnsafeArchive(Exception):
    """The archive (or download) breaks a safety rule; the message says which member and why."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one app may cost an agent. Environment overrides: see :meth:`from_env`."""

    max_download_bytes: int = 512 * MIB
    max_extracted_bytes: int = 2048 * MIB
    max_files: int = 20_000
    download_timeout: float = 120.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        default = cls()

        def mib(key: str, fallback: int) -> int:
            return int(env.get(key, fallback // MIB)) * MIB

        return cls(
            max_download_bytes=mib("ELASTICJOB_CLOUD_MAX_DOWNLOAD_MB", default.max_download_bytes),
            max_extracted_bytes=mib("ELASTICJOB_CLOUD_MAX_EXTRACTED_MB", default.max_extracted_bytes),
            max_files=int(env.get("ELASTICJOB_CLOUD_MAX_FILES", default.max_files)),
            download_timeout=float(env.get("ELASTICJOB_CLOUD_DOWNLOAD_TIMEOUT", default.download_timeout)),
        )


def archive_suffix(name: str) -> str | None:
    """The archive suffix of a URL path or file name (the Mesos fetcher's list), or None."""
    lower = name.lower()
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return suffix
    return None


def unpack(source: Path, name: str, dest: Path, limits: Limits) -> None:
    """Unpack ``source`` (downloaded from a URL whose last path segment is ``name``) into ``dest``.

    ``dest`` must not exist yet; it is created, and removed again if unpacking fails.
    """
    dest.mkdir(parents=True)
    try:
        suffix = archive_suffix(name)
        if suffix in TAR_SUFFIXES:
            _untar(source, TAR_SUFFIXES[suffix], dest, limits)
        elif suffix == ".zip":
            _unzip(source, dest, limits)
        elif suffix == ".gz":
            with gzip.open(source, "rb") as stream:
                _write_executable(
                    stream,  # type: ignore[arg-type]
                    dest / (_plain_name(name[: -len(".gz")])),
                    limits,
                )
        else:
            with open(source, "rb") as stream:
                _write_executable(stream, dest / _plain_name(name), limits)
    except BaseException as exc:
        shutil.rmtree(dest, ignore_errors=True)
        if isinstance(exc, tarfile.TarError | zipfile.BadZipFile | EOFError | gzip.BadGzipFile):
            raise UnsafeArchive(f"corrupt archive {name}: {exc}") from exc
        raise


# -- lexical checks -------------------------------------------------------------------------------


def _inside(name: str) -> str:
    """Normalise an archive member name; refuse anything that could leave the directory."""
    if "\x00" in name or not name.strip("/"):
        raise UnsafeArchive(f"bad member name {name!r}")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or name.startswith("\\"):
        raise UnsafeArchive(f"absolute path {name!r}")
    normal = posixpath.normpath(name)
    if normal == ".." or normal.startswith("../"):
        raise UnsafeArchive(f"path {name!r} leaves the app directory")
    return normal


def _link_inside(member: str, target: str, symbolic: bool) -> None:
    if not target or target.startswith("/"):
        raise UnsafeArchive(f"link {member!r} has absolute target {target!r}")
    base = posixpath.dirname(member) if symbolic else ""
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        raise UnsafeArchive(f"link {member!r} -> {target!r} leaves the app directory")


class _Budget:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.files = 0
        self.bytes = 0

    def add(self, name: str, size: int) -> None:
        self.files += 1
        self.bytes += max(size, 0)
        if self.files > self.limits.max_files:
            raise UnsafeArchive(f"more than {self.limits.max_files} members")
        if self.bytes > self.limits.max_extracted_bytes:
            raise UnsafeArchive(
                f"unpacked size exceeds {self.limits.max_extracted_bytes} bytes (at member {name!r})"
            )


def _check_real(dest: Path, path: Path, name: str) -> None:
    """The real location of ``path`` (links resolved) must be inside ``dest``."""
    root = os.path.realpath(dest)
    real = os.path.realpath(path)
    if real != root and not real.startswith(root + os.sep):
        raise UnsafeArchive(f"member {name!r} resolves outside the app directory")


# -- tar ------------------------------------------------------------------------------------------


def _tar_members(tar: tarfile.TarFile, limits: Limits) -> Iterator[tarfile.TarInfo]:
    budget = _Budget(limits)
    while (member := tar.next()) is not None:
        name = _inside(member.name)
        if member.issym() or member.islnk():
            _link_inside(name, member.linkname, member.issym())
        elif not (member.isfile() or member.isdir()):
            raise UnsafeArchive(f"special file {member.name!r} (device, FIFO or unknown type) is not allowed")
        budget.add(member.name, member.size if member.isfile() else 0)
        yield member


def _untar(source: Path, mode: str, dest: Path, limits: Limits) -> None:
    with tarfile.open(source, mode) as tar:  # type: ignore[call-overload]
        members = list(_tar_members(tar, limits))
    with tarfile.open(source, mode) as tar:  # type: ignore[call-overload]
        for member in members:
            target = dest / _inside(member.name)
            _check_real(dest, target.parent, member.name)
            try:
                tar.extract(member, dest, set_attrs=True, filter="data")
            except tarfile.FilterError as exc:
                raise UnsafeArchive(f"member {member.name!r} refused: {exc}") from exc
            if member.issym():
                _check_real(dest, target, member.name)


# -- zip ------------------------------------------------------------------------------------------


def _zip_mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0xFFFF


def _unzip(source: Path, dest: Path, limits: Limits) -> None:
    with zipfile.ZipFile(source) as archive:
        budget = _Budget(limits)
        infos = archive.infolist()
        for info in infos:
            name = _inside(info.filename)
            mode = _zip_mode(info)
            if stat.S_ISLNK(mode):
                _link_inside(name, archive.read(info).decode("utf-8", "replace"), True)
            elif stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise UnsafeArchive(f"special file {info.filename!r} (device, FIFO) is not allowed")
            budget.add(info.filename, info.file_size)
        written = _Budget(limits)
        for info in infos:
            name = _inside(info.filename)
            target = dest / name
            mode = _zip_mode(info)
            if info.is_dir():
                _check_real(dest, target, info.filename)
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            _check_real(dest, target.parent, info.filename)
            if stat.S_ISLNK(mode):
                os.symlink(archive.read(info).decode("utf-8"), target)
                _check_real(dest, target, info.filename)
                continue
            if target.is_symlink() or target.exists():
                raise UnsafeArchive(f"member {info.filename!r} is duplicated or overwrites a link")
            with archive.open(info) as stream, open(target, "xb") as out:
                _copy(stream, out, written, info.filename, info.file_size)
            os.chmod(target, (mode & 0o755) | 0o600 if mode else 0o644)


def _copy(stream: IO[bytes], out: IO[bytes], budget: _Budget, name: str, declared: int) -> None:
    budget.add(name, 0)
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        budget.bytes += len(chunk)
        if size > declared or budget.bytes > budget.limits.max_extracted_bytes:
            raise UnsafeArchive(f"member {name!r} inflates beyond its declared size or the size limit")
        out.write(chunk)


# -- single files ---------------------------------------------------------------------------------


def _plain_name(name: str) -> str:
    base = posixpath.basename(name.rstrip("/")) or "app"
    if base in (".", ".."):
        base = "app"
    return base


def _write_executable(stream: IO[bytes], target: Path, limits: Limits) -> None:
    budget = _Budget(limits)
    with open(target, "xb") as out:
        _copy(stream, out, budget, target.name, limits.max_extracted_bytes)
    os.chmod(target, 0o755)
