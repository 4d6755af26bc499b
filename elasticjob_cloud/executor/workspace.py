"""Where a task's app lives: one shared extraction (cache on) or a fresh one per task (cache off).

With ``appCacheEnable`` the download comes from the agent-wide :class:`AppCache` and is extracted
once into the executor's sandbox (``{sandbox}/app``); every task of the executor runs there, and
the extraction starts in the background as soon as the executor registers. A failed attempt is
forgotten, so the next task tries again. Without the cache every task downloads and extracts the
app into its own directory (``{sandbox}/tasks/{task}/app``), removed when the task ends.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from elasticjob_cloud.core.taskdata import AppData
from elasticjob_cloud.executor.archive import Limits, unpack
from elasticjob_cloud.executor.fetch import AppCache, download, url_name

log = logging.getLogger(__name__)


class AppWorkspace:
    def __init__(self, app: AppData, sandbox: Path, cache: AppCache, limits: Limits):
        self.app = app
        self.sandbox = sandbox
        self.cache = cache
        self.limits = limits
        self._lock = threading.Lock()
        self._shared: Path | None = None
        self._attempt = 0

    def prefetch(self) -> None:
        """Start preparing the shared app directory in the background (cache on only)."""
        if self.app.app_cache_enable:
            threading.Thread(target=self._prefetch, name="app-prefetch", daemon=True).start()

    def _prefetch(self) -> None:
        try:
            self.shared_dir()
        except Exception as exc:
            log.warning("prefetching app %s failed (the next task retries): %s", self.app.app_url, exc)

    def shared_dir(self) -> Path:
        with self._lock:
            if self._shared is not None:
                return self._shared
            self._attempt += 1
            dest = self.sandbox / ("app" if self._attempt == 1 else f"app.{self._attempt}")
            shutil.rmtree(dest, ignore_errors=True)
            source = self.cache.get(self.app.app_url, self.limits)
            unpack(source, url_name(self.app.app_url), dest, self.limits)
            log.info("app %s extracted into %s", self.app.app_name, dest)
            self._shared = dest
            return dest

    def acquire(self, task_dir: Path) -> Path:
        """The app directory for a task that keeps its files in ``task_dir``."""
        if self.app.app_cache_enable:
            return self.shared_dir()
        archive = task_dir / "app.download"
        dest = task_dir / "app"
        shutil.rmtree(dest, ignore_errors=True)
        try:
            download(self.app.app_url, archive, self.limits)
            unpack(archive, url_name(self.app.app_url), dest, self.limits)
        finally:
            archive.unlink(missing_ok=True)
        return dest

    def release(self, app_dir: Path) -> None:
        """Remove a task's private copy; the shared directory stays."""
        if app_dir != self._shared:
            shutil.rmtree(app_dir, ignore_errors=True)
