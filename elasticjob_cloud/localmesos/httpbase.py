"""The HTTP plumbing shared by the master and the agents (stdlib ``http.server``).

Mesos endpoints need HTTP/1.1 keep-alive (pymesos sends every call on one persistent connection
while the event stream stays open on another), so the server is multi-threaded and the handler
speaks HTTP/1.1 with explicit ``Content-Length``. The server remembers every accepted socket so
that ``stop()`` really frees the port and unblocks idle keep-alive threads.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

VERSION = "1.11.0"
PROTOBUF = "application/x-protobuf"
MAX_BODY = 64 * 1024 * 1024


def is_protobuf_wire_format(data: bytes) -> bool:
    """Whether ``data`` walks as protobuf fields (varint, 64-bit, length-delimited, 32-bit); an
    empty body parses (every field of a message is optional on the wire)."""
    pos, end = 0, len(data)

    def varint() -> int | None:
        nonlocal pos
        shift = result = 0
        while pos < end and shift < 70:
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
        return None

    while pos < end:
        key = varint()
        if key is None or key >> 3 == 0:
            return False
        wire = key & 7
        if wire == 0:
            if varint() is None:
                return False
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length = varint()
            if length is None:
                return False
            pos += length
        elif wire == 5:
            pos += 4
        else:
            return False
        if pos > end:
            return False
    return True


class BadRequest(Exception):
    """A malformed request: answered 400 with the message as a plain-text body, as Mesos does."""


class TrackingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: Any):
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._conn_lock:
            self._connections.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Stop serving, close the listener and every open connection."""
        self.shutdown()
        self.server_close()
        with self._conn_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve_in_thread(self, name: str) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, name=name)
        thread.daemon = True
        thread.start()
        return thread


class JsonHandler(BaseHTTPRequestHandler):
    """Base handler: JSON bodies in and out, HTTP/1.1, logging through ``logging``."""

    protocol_version = "HTTP/1.1"
    server_version = "LocalMesos/" + VERSION
    server: TrackingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def read_body(self) -> bytes:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                raise BadRequest("chunked request bodies are not supported")
            return b""
        try:
            length = int(length_text)
        except ValueError as exc:
            raise BadRequest("bad Content-Length") from exc
        if length < 0 or length > MAX_BODY:
            raise BadRequest("bad Content-Length")
        return self.rfile.read(length)

    def read_json(self) -> Any:
        body = self.read_body()
        try:
            return json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"Failed to parse body into JSON: {exc}") from exc

    def send_json(self, code: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, code: int, text: str, headers: dict[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_accepted(self) -> None:
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def check_content_type(self) -> bool:
        """``Content-Type`` as a Mesos master or agent checks it (``Master::Http::scheduler``,
        ``Http::executor``): missing → 400; JSON → go on; protobuf → 400 if it does not parse as
        protobuf wire format, otherwise 415 (this emulator speaks JSON only); anything else → 415."""
        content_type = self.headers.get("Content-Type")
        if content_type is None:
            self.read_body()
            self.send_text(400, "Expecting 'Content-Type' to be present")
            return False
        media = content_type.split(";")[0].strip().lower()
        if media == "application/json":
            return True
        if media == PROTOBUF:
            if not is_protobuf_wire_format(self.read_body()):
                self.send_text(400, "Failed to parse body into Call protobuf")
                return False
            self.send_text(415, "This local Mesos speaks JSON only: send 'Content-Type: application/json'")
            return False
        self.read_body()
        self.send_text(415, f"Expecting 'Content-Type' of application/json or {PROTOBUF}")
        return False

    def check_accept(self) -> bool:
        """``Accept`` (SUBSCRIBE and RECONCILE_OPERATIONS only): absent accepts everything."""
        accept = self.headers.get("Accept")
        if accept is None:
            return True
        ranges = [part.split(";")[0].strip().lower() for part in accept.split(",")]
        if any(r in ("application/json", "*/*", "application/*") for r in ranges):
            return True
        self.send_text(406, f"Expecting 'Accept' to allow '{PROTOBUF}' or 'application/json'")
        return False

    def start_stream(self, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
