"""HTTP to a scheduler's REST API: base URL, credentials, redirects to the leader, errors.

The API URL comes from ``--api``, else ``ELASTICJOB_CLOUD_API``, else ``http://127.0.0.1:8899``.
Credentials (HTTP Basic) from ``--user``/``--password``, else ``ELASTICJOB_CLOUD_USER`` /
``ELASTICJOB_CLOUD_PASSWORD``, else a ``~/.netrc`` entry for the API's host (requests reads it).

A 307/308 from a standby is followed by hand, with the same method, body and credentials: requests
would drop the credentials on a redirect to another port, and the leader is part of the same
cluster the user addressed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests

DEFAULT_API = "http://127.0.0.1:8899"
MAX_REDIRECTS = 5
TIMEOUT = 30.0


class ApiError(Exception):
    """A 4xx/5xx answer (``status``), or no answer at all (``status`` 0)."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}

    def describe(self) -> str:
        lines = [f"{self.status} {self.message}" if self.status else self.message]
        for field, problems in self.errors.items():
            if field != "_schema" or len(self.errors) > 1:
                lines.append(f"  {field}: {' '.join(problems)}")
        return "\n".join(lines)


@dataclass
class Api:
    url: str = DEFAULT_API
    user: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT

    @classmethod
    def from_options(
        cls, url: str | None = None, user: str | None = None, password: str | None = None
    ) -> Api:
        env = os.environ
        return cls(
            url=(url or env.get("ELASTICJOB_CLOUD_API") or DEFAULT_API).rstrip("/"),
            user=user or env.get("ELASTICJOB_CLOUD_USER") or None,
            password=password if password is not None else env.get("ELASTICJOB_CLOUD_PASSWORD"),
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        text: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The decoded JSON answer (None for 204); ``ApiError`` on 4xx/5xx or no connection."""
        url = self.url + path
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif text is not None:
            data, headers["Content-Type"] = text.encode(), "application/json"
        auth = (self.user, self.password or "") if self.user else None
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = requests.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    params=params,
                    auth=auth,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise ApiError(0, f"cannot reach the API at {self.url}: {exc}") from None
            if response.status_code in (307, 308) and "Location" in response.headers:
                url, params = urljoin(url, response.headers["Location"]), None
                continue
            return _decode(response)
        raise ApiError(0, f"more than {MAX_REDIRECTS} redirects from {self.url}{path}")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})


def _decode(response: requests.Response) -> Any:
    payload: Any = None
    if response.content:
        try:
            payload = response.json()
        except ValueError:
            payload = None
    if response.status_code >= 400:
        if isinstance(payload, dict) and "message" in payload:
            raise ApiError(response.status_code, str(payload["message"]), payload.get("errors") or {})
        text = response.text.strip() or response.reason or "error"
        raise ApiError(response.status_code, text[:2000])
    if response.status_code == 204 or not response.content:
        return None
    return payload if payload is not None else response.text
