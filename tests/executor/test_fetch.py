"""Fetching the app: http and file URLs, limits, and the agent-wide cache under concurrency."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from elasticjob_cloud.executor.archive import Limits
from elasticjob_cloud.executor.fetch import AppCache, FetchError, default_cache_dir, download, url_name


def test_http_and_file_downloads_are_identical(app_server, packed_app: Path, tmp_path: Path) -> None:
    download(app_server.url("example-app.tar.gz"), tmp_path / "a", Limits())
    download(packed_app.as_uri(), tmp_path / "b", Limits())
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == packed_app.read_bytes()
    assert app_server.hits["/example-app.tar.gz"] == 1


def test_errors_say_what_went_wrong(app_server, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        download(app_server.url("missing.tar.gz"), tmp_path / "x", Limits())
    with pytest.raises(FetchError, match="scheme"):
        download("ftp://example.invalid/app.tar.gz", tmp_path / "x", Limits())
    with pytest.raises(FetchError, match="limit"):
        download(app_server.url("example-app.tar.gz"), tmp_path / "x", Limits(max_download_bytes=100))
    with pytest.raises(FetchError):
        download((tmp_path / "nope.tar.gz").as_uri(), tmp_path / "x", Limits())
    assert not (tmp_path / "x").exists()
    assert list(tmp_path.iterdir()) == []  # no partial files left behind


def test_a_stalled_server_hits_the_timeout(app_server, tmp_path: Path) -> None:
    app_server.delay.set()
    with pytest.raises(FetchError):
        download(app_server.url("example-app.tar.gz"), tmp_path / "x", Limits(download_timeout=0.5))
    assert not (tmp_path / "x").exists()


def test_cache_downloads_once_for_concurrent_users(app_server, tmp_path: Path) -> None:
    cache = AppCache(tmp_path / "cache")
    url = app_server.url("example-app.tar.gz")
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(AppCache(cache.root).get(url, Limits())))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 6 and len(set(results)) == 1
    assert app_server.hits["/example-app.tar.gz"] == 1
    cache.get(url, Limits())
    assert app_server.hits["/example-app.tar.gz"] == 1


def _cache_in_child(root: str, url: str) -> None:
    AppCache(Path(root)).get(url, Limits())


def test_cache_is_shared_by_processes(app_server, tmp_path: Path) -> None:
    """Executors are separate processes: the flock, not a thread lock, must serialise them."""
    url = app_server.url("example-app.tar.gz")
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_cache_in_child, args=(str(tmp_path / "c"), url)) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    assert app_server.hits["/example-app.tar.gz"] == 1


def test_url_name_and_cache_location(tmp_path: Path) -> None:
    assert url_name("http://h/x/app.tar.gz?v=1") == "app.tar.gz"
    assert url_name("file:///srv/apps/my%20app.zip") == "my app.zip"
    sandbox = tmp_path / "slaves/S0/frameworks/F/executors/E/runs/C"
    assert default_cache_dir(sandbox, {}) == tmp_path / "elasticjob-app-cache"
    assert default_cache_dir(sandbox, {"ELASTICJOB_CLOUD_APP_CACHE_DIR": "/x"}) == Path("/x")
    assert "elasticjob-cloud-app-cache" in str(default_cache_dir(Path("/somewhere"), {}))
