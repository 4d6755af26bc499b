"""Authentication and roles, enforced on every request before any route runs.

Default deny: a request needs a known user unless its route is in the short open list (``/health``,
``/metrics``, the console's static files, the two login routes); a method other than GET, HEAD and
OPTIONS needs the admin role. So a route added later is covered without anyone remembering to mark
it (``tests/rest/test_auth.py`` walks Flask's ``url_map`` to prove it).

Three ways to say who you are, checked in this order:

* ``accessToken`` header: a token from ``POST /api/login`` (the 3.x API: ``{"username",
  "password"}`` → ``{"accessToken": …}``), signed and expiring (3.x's was Base64 of the password);
* HTTP Basic (``curl -u admin:…``);
* the console's session cookie (``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS) from
  ``POST /api/auth/session``; a write with it must also carry the session's ``X-CSRF-Token``.

Sessions and tokens are signed with a key every instance shares (``rest.sessions``), so they stay
valid when the leadership moves or a balancer picks another instance; a logout holds everywhere.

A write authenticated by Basic or token that comes with a foreign ``Origin`` header (a page of
another site replaying a browser's cached Basic credentials) is refused. Failed passwords are
counted per client address (``FailureLimiter``): past the limit, 429 with ``Retry-After``.

A 401 carries ``WWW-Authenticate: Basic`` except for the console's own calls (``X-Requested-With``),
so a browser shows its password dialog only to someone who opens an API URL directly.

With authentication off (``Services.auth`` is None) every request is the anonymous admin.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from ..exceptions import Forbidden, InvalidConfig, TooManyRequests, Unauthorized
from .bodies import json_body, json_response
from .contract import ANY_JSON, LOGIN, documented, json_content
from .credentials import Account, Authenticator, Identity, Role

blueprint = Blueprint("auth", __name__)

SESSION_COOKIE = "ejc_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/health", "/metrics"})
LOGIN_ENDPOINTS = frozenset({"auth.login_token", "auth.open_session"})
CONSOLE_FILES = frozenset({"console.index", "console.asset"})  # static files: no data in them
SELF_ENDPOINTS = frozenset({"auth.current_session", "auth.close_session"})  # any role, any method
OPEN_IDENTITY = Identity("anonymous", Role.ADMIN, "open")


def authenticator() -> Authenticator | None:
    found: Authenticator | None = current_app.extensions["elasticjob"].auth
    return found


def _now() -> Any:
    return current_app.extensions["elasticjob"].clock()


def is_open_route() -> bool:
    return (
        request.path in OPEN_PATHS or request.endpoint in LOGIN_ENDPOINTS or request.endpoint in CONSOLE_FILES
    )


def _address() -> str:
    return request.remote_addr or "unknown"


def _challenge() -> dict[str, str]:
    if request.headers.get("X-Requested-With"):
        return {}
    return {"WWW-Authenticate": 'Basic realm="elasticjob-cloud", charset="UTF-8"'}


def _throttle(auth: Authenticator) -> None:
    wait = auth.limiter.retry_after(_address(), _now())
    if wait > 0:
        error = TooManyRequests(f"too many failed logins from {_address()}: retry in {wait:.0f}s")
        error.headers = {"Retry-After": str(max(int(wait + 0.999), 1))}  # type: ignore[attr-defined]
        raise error


def check_password(auth: Authenticator, username: str, password: str) -> Account:
    """The account, or Unauthorized (counted against this address; 429 once over the limit)."""
    _throttle(auth)
    account = auth.accounts.verify(username, password)
    if account is None:
        auth.limiter.failed(_address(), _now())
        raise _unauthorized("wrong user name or password")
    auth.limiter.succeeded(_address())
    return account


def _unauthorized(message: str) -> Unauthorized:
    error = Unauthorized(message)
    error.headers = _challenge()  # type: ignore[attr-defined]
    return error


def _identify(auth: Authenticator) -> Identity | None:
    token = request.headers.get("accessToken")
    if token:
        session = auth.sessions.find(token, _now(), auth.accounts.named)
        if session is None or session.identity.via != "token":
            raise _unauthorized("the accessToken is unknown or expired: POST /api/login again")
        return session.identity
    credentials = request.authorization
    if credentials is not None and credentials.type == "basic":
        account = check_password(auth, credentials.username or "", credentials.password or "")
        return Identity(account.username, account.role, "basic")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = auth.sessions.find(cookie, _now(), auth.accounts.named)
        if session is not None and session.identity.via == "session":
            g.session = session
            return session.identity
    return None


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin.rstrip("/") == request.host_url.rstrip("/")


def enforce() -> None:
    """The before-request hook: sets ``g.identity`` or raises 401 / 403 / 429."""
    auth = authenticator()
    if auth is None:
        g.identity = OPEN_IDENTITY
        return
    if is_open_route():
        return
    identity = _identify(auth)
    if identity is None:
        raise _unauthorized("authentication required: HTTP Basic, an accessToken, or a console session")
    g.identity = identity
    if request.method in SAFE_METHODS:
        return
    if identity.via == "session":
        given = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(given.encode(), g.session.csrf.encode()):
            raise Forbidden("missing or wrong X-CSRF-Token for this console session")
    elif not _same_origin():
        raise Forbidden(f"cross-origin write refused (Origin {request.headers.get('Origin')})")
    if request.endpoint not in SELF_ENDPOINTS and not identity.is_admin:
        raise Forbidden(f"user {identity.username!r} is a viewer: writes need the admin role")


def current_identity() -> Identity | None:
    return g.get("identity")


def install_auth(app: Flask) -> None:
    app.before_request(enforce)
    app.register_blueprint(blueprint)


_LOGIN_BODY = {
    "required": True,
    **json_content(
        {
            "type": "object",
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
            "required": ["username", "password"],
        }
    ),
}


def _login_fields() -> tuple[str, str]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidConfig("a JSON object {username, password} is expected", {"_schema": ["not an object"]})
    username, password = body.get("username"), body.get("password")
    errors = {
        name: ["missing: a string is expected"]
        for name, value in (("username", username), ("password", password))
        if not isinstance(value, str) or not value
    }
    if errors:
        raise InvalidConfig("username and password are required", errors)
    return str(username), str(password)


@blueprint.post("/api/login")
@documented(
    "3.x login: {username, password} → {accessToken}",
    body=LOGIN,
    ok=ANY_JSON,
    status="200",
    errors=("413", "429"),
)
def login_token() -> Any:
    """3.x clients: ``{"username","password"}`` → ``{"accessToken"}`` for the ``accessToken`` header."""
    auth = authenticator()
    username, password = _login_fields()
    if auth is None:
        return json_response({"accessToken": secrets.token_urlsafe(32)})
    account = check_password(auth, username, password)
    return json_response({"accessToken": auth.sessions.open(account, "token", _now()).token})


def _session_body(identity: Identity, csrf: str) -> dict[str, Any]:
    return {
        "authEnabled": authenticator() is not None,
        "username": identity.username,
        "role": identity.role.value,
        "csrfToken": csrf,
    }


@blueprint.post("/api/auth/session")
@documented(
    "Console login: sets the session cookie, answers the CSRF token",
    body=LOGIN,
    ok=ANY_JSON,
    status="200",
    errors=("413", "429"),
)
def open_session() -> Any:
    """Console login: sets the session cookie and answers the CSRF token for later writes."""
    auth = authenticator()
    username, password = _login_fields()
    if auth is None:
        return json_response(_session_body(OPEN_IDENTITY, ""))
    account = check_password(auth, username, password)
    session = auth.sessions.open(account, "session", _now())
    response: Response = json_response(_session_body(session.identity, session.csrf))
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=int(auth.sessions.lifetime.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
        path="/",
    )
    return response


@blueprint.get("/api/auth/session")
@documented("Who am I", ok=ANY_JSON, status="200")
def current_session() -> Any:
    """Who am I: the console asks this first (401 → it shows its login form)."""
    identity: Identity = g.identity
    session = g.get("session")
    return json_response(_session_body(identity, session.csrf if session else ""))


@blueprint.delete("/api/auth/session")
@documented("Console logout")
def close_session() -> Any:
    auth = authenticator()
    session = g.get("session")
    if auth is not None and session is not None:
        auth.sessions.close(session, _now())
    response = Response(status=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict")
    return response
