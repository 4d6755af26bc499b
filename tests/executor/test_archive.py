"""Safe unpacking: good archives land intact; hostile ones are refused with nothing written outside."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from elasticjob_cloud.executor.archive import Limits, UnsafeArchive, archive_suffix, unpack

SMALL = Limits(max_extracted_bytes=1 << 20, max_files=50)


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def area(tmp_path: Path) -> Path:
    """``tmp_path/sandbox`` is where unpacking happens; everything else must stay untouched."""
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    return info


def refuse(area: Path, archive: Path, name: str, limits: Limits = SMALL) -> str:
    before = snapshot(area)
    with pytest.raises(UnsafeArchive) as caught:
        unpack(archive, name, area / "sandbox" / "app", limits)
    after = snapshot(area)
    assert after == before, f"files appeared: {after - before}"
    assert not (area / "sandbox" / "app").exists()
    return str(caught.value)


@pytest.mark.parametrize("suffix", [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"])
def test_tar_flavours_unpack_with_modes_and_inside_links(area: Path, suffix: str) -> None:
    mode = {".tar": "w", ".tar.gz": "w:gz", ".tgz": "w:gz"}.get(suffix, "w:bz2" if "b" in suffix else "w:xz")
    archive = make_tar(
        area / f"app{suffix}",
        [
            (entry("bin", tarfile.DIRTYPE, mode=0o755), None),
            (entry("bin/start.sh", mode=0o755), b"#!/bin/sh\necho hi\n"),
            (entry("lib/data.txt"), b"data"),
            (entry("bin/data", tarfile.SYMTYPE, link="../lib/data.txt"), None),
        ],
        mode,
    )
    unpack(archive, f"app{suffix}", area / "sandbox" / "app", SMALL)
    app = area / "sandbox" / "app"
    assert (app / "bin/start.sh").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert os.stat(app / "bin/start.sh").st_mode & stat.S_IXUSR
    assert (app / "bin/data").read_text() == "data"


def test_zip_unpacks_with_modes(area: Path) -> None:
    path = area / "app.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bin/start.sh")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(info, "#!/bin/sh\n")
        archive.writestr("pkg/mod.py", "X = 1\n")
    unpack(path, "app.zip", area / "sandbox" / "app", SMALL)
    assert (area / "sandbox/app/pkg/mod.py").read_text() == "X = 1\n"
    assert os.access(area / "sandbox/app/bin/start.sh", os.X_OK)


def test_bare_script_and_gz_file_become_executables(area: Path) -> None:
    script = area / "job.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    unpack(script, "job.sh", area / "sandbox" / "one", SMALL)
    assert os.access(area / "sandbox/one/job.sh", os.X_OK)
    import gzip

    gz = area / "tool.sh.gz"
    gz.write_bytes(gzip.compress(b"#!/bin/sh\n"))
    unpack(gz, "tool.sh.gz", area / "sandbox" / "two", SMALL)
    assert (area / "sandbox/two/tool.sh").read_bytes() == b"#!/bin/sh\n"
    assert os.access(area / "sandbox/two/tool.sh", os.X_OK)


def test_archive_suffixes() -> None:
    assert archive_suffix("a/b/app.TAR.GZ") == ".tar.gz"
    assert archive_suffix("app.gz") == ".gz"
    assert archive_suffix("app.sh") is None


# -- hostile archives -----------------------------------------------------------------------------


def test_tar_slip_is_refused(area: Path) -> None:
    archive = make_tar(area / "evil.tar.gz", [(entry("ok.txt"), b"ok"), (entry("../outside/pwned"), b"x")])
    assert "leaves" in refuse(area, archive, "evil.tar.gz")


def test_tar_absolute_path_is_refused(area: Path) -> None:
    target = area / "outside" / "abs"
    archive = make_tar(area / "evil.tar", [(entry(str(target)), b"x")], "w")
    assert "absolute" in refuse(area, archive, "evil.tar")
    assert not target.exists()


def test_tar_symlink_escape_is_refused(area: Path) -> None:
    archive = make_tar(
        area / "evil.tgz",
        [(entry("link", tarfile.SYMTYPE, link="../outside"), None), (entry("link/pwned"), b"x")],
    )
    refuse(area, archive, "evil.tgz")


def test_tar_absolute_symlink_and_hardlink_escape_are_refused(area: Path) -> None:
    absolute = make_tar(area / "a.tgz", [(entry("etc", tarfile.SYMTYPE, link="/etc"), None)])
    assert "absolute" in refuse(area, absolute, "a.tgz")
    hard = make_tar(area / "h.tgz", [(entry("passwd", tarfile.LNKTYPE, link="../../etc/passwd"), None)])
    refuse(area, hard, "h.tgz")


def test_tar_symlink_chain_escape_is_refused(area: Path) -> None:
    """Each link is harmless on its own; together they point outside: caught by the realpath pass."""
    archive = make_tar(
        area / "chain.tgz",
        [
            (entry("a/b", tarfile.DIRTYPE, mode=0o755), None),
            (entry("a/b/up", tarfile.SYMTYPE, link="../.."), None),
            (entry("a/esc", tarfile.SYMTYPE, link="b/up/.."), None),
            (entry("a/esc/outside/pwned"), b"x"),
        ],
    )
    refuse(area, archive, "chain.tgz")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_tar_device_and_fifo_are_refused(area: Path, kind: bytes) -> None:
    archive = make_tar(area / "dev.tar", [(entry("dev/null", kind), None)], "w")
    assert "special file" in refuse(area, archive, "dev.tar")


def test_tar_bomb_is_refused_from_its_headers(area: Path) -> None:
    info = entry("huge.bin")
    info.size = 10 << 30  # 10 GiB declared; the data is never read
    path = area / "bomb.tar"
    with open(path, "wb") as raw:
        raw.write(info.tobuf(format=tarfile.GNU_FORMAT))
    assert "size" in refuse(area, path, "bomb.tar")


def test_tar_with_too_many_files_is_refused(area: Path) -> None:
    archive = make_tar(area / "many.tgz", [(entry(f"f{i}"), b"") for i in range(60)])
    assert "members" in refuse(area, archive, "many.tgz")


def test_zip_slip_and_absolute_paths_are_refused(area: Path) -> None:
    for name in ("../outside/pwned", "/tmp/pwned-by-zip", "a/../../outside/x"):
        path = area / "evil.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("fine.txt", "ok")
            archive.writestr(name, "x")
        refuse(area, path, "evil.zip")
        path.unlink()
    assert not Path("/tmp/pwned-by-zip").exists()


def test_zip_symlink_escape_and_device_are_refused(area: Path) -> None:
    path = area / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "../outside")
    refuse(area, path, "link.zip")
    dev = area / "dev.zip"
    with zipfile.ZipFile(dev, "w") as archive:
        info = zipfile.ZipInfo("null")
        info.external_attr = (stat.S_IFCHR | 0o666) << 16
        archive.writestr(info, "")
    assert "special file" in refuse(area, dev, "dev.zip")


def test_zip_bomb_is_refused(area: Path) -> None:
    path = area / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (8 << 20))  # 8 MiB of zeros: a few KiB compressed
    assert path.stat().st_size < 64 << 10
    assert "size" in refuse(area, path, "bomb.zip")


def test_zip_lying_about_its_size_is_stopped_while_writing(area: Path) -> None:
    path = area / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.bin", b"A" * 4096)
    raw = bytearray(path.read_bytes())
    # shrink the declared size in the central directory (offset 24 of the entry) to 16 bytes
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24 : central + 28] = (16).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(UnsafeArchive):
        unpack(path, "liar.zip", area / "sandbox" / "app", SMALL)
    assert not (area / "sandbox" / "app").exists()


def test_corrupt_archive_is_reported(area: Path) -> None:
    path = area / "broken.tar.gz"
    path.write_bytes(b"this is not gzip")
    assert "corrupt" in refuse(area, path, "broken.tar.gz")
