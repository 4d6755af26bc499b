"""Serve the Flask app with waitress (a production WSGI server) in a background thread."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from waitress.server import create_server

log = logging.getLogger(__name__)


class RestServer:
    def __init__(self, app: Flask, host: str = "0.0.0.0", port: int = 8899, threads: int = 8):
        self._server = create_server(app, host=host, port=port, threads=threads, ident="elasticjob-cloud")
        self._thread = threading.Thread(target=self._server.run, name="rest-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def host(self) -> str:
        """The address really bound (``0.0.0.0`` means every interface)."""
        return str(self._server.effective_host)

    @property
    def listening(self) -> str:
        """``host:port`` as bound, for banners and logs."""
        host = self.host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def start(self) -> RestServer:
        self._thread.start()
        log.info("REST API listening on %s", self.listening)
        return self

    def stop(self) -> None:
        """Close every socket from inside waitress's own loop thread, so its loop ends cleanly.

        The trigger (waitress's wake-up pipe) is only taken out of the loop there and closed after the
        loop thread ended: closing it inside the loop could race with ``pull_trigger`` writing to it.
        """
        trigger = self._server.trigger
        if self._thread.is_alive():
            trigger.pull_trigger(self._close_all)
            self._thread.join(10)
        self._server.task_dispatcher.shutdown()
        if not self._thread.is_alive():
            trigger.close()

    def _close_all(self) -> None:
        trigger = self._server.trigger
        for channel in list(self._server._map.values()):
            if channel is trigger:
                channel.del_channel()
            else:
                channel.close()
