"""``/api/app``: publish, update, list, delete, disable and enable apps."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from ..core.schemas import app_to_wire
from ..lifecycle import Lifecycle
from .bodies import json_body, json_response, no_content
from .contract import BOOLEAN, documented, list_of, ref, request_body
from .paging import requested_page

blueprint = Blueprint("apps", __name__, url_prefix="/api/app")


def services() -> Any:
    """The app's ``Services`` (``rest.app``): the one way blueprints reach the use cases."""
    return current_app.extensions["elasticjob"]


def lifecycle() -> Lifecycle:
    return services().lifecycle


@blueprint.post("")
@documented(
    "Publish an app",
    body=request_body("App"),
    errors=(
        "409",
        "413",
    ),
)
def register() -> Any:
    lifecycle().register_app(json_body())
    return no_content()


@blueprint.put("")
@documented(
    "Update the given fields of an app",
    body=request_body("AppUpdate"),
    errors=("404", "409", "413"),
)
def update() -> Any:
    lifecycle().update_app(json_body())
    return no_content()


@blueprint.get("/list")
@documented(
    "List apps (name descending); with ?page=&per_page=&search=&order= one page: {total, rows}, by name",
    ok=list_of("App"),
    status="200",
)
def list_apps() -> Any:
    paging = requested_page()
    if paging is not None:
        total, page = lifecycle().find_apps(paging.search, paging.offset, paging.per_page, paging.descending)
        return json_response({"total": total, "rows": [app_to_wire(app) for app in page]})
    apps = sorted(lifecycle().list_apps(), key=lambda app: app.app_name, reverse=True)
    return json_response([app_to_wire(app) for app in apps])


@blueprint.get("/<app:app_name>")
@documented("An app", ok=ref("App"), status="200", errors=("404",))
def detail(app_name: str) -> Any:
    return json_response(app_to_wire(lifecycle().get_app(app_name)))


@blueprint.delete("/<app:app_name>")
@documented("Delete an app and deregister its jobs (idempotent)")
def delete(app_name: str) -> Any:
    lifecycle().delete_app(app_name)
    return no_content()


@blueprint.get("/<app:app_name>/disable")
@documented("Is the app disabled", ok=BOOLEAN, status="200", errors=("404",))
def is_disabled(app_name: str) -> Any:
    return json_response(lifecycle().is_app_disabled(app_name))


@blueprint.post("/<app:app_name>/disable")
@documented("Disable the app", errors=("404",))
def disable(app_name: str) -> Any:
    lifecycle().disable_app(app_name)
    return no_content()


@blueprint.delete("/<app:app_name>/disable")
@blueprint.post("/<app:app_name>/enable")
@documented("Enable the app (DELETE …/disable is the 2.x form)", errors=("404",))
def enable(app_name: str) -> Any:
    lifecycle().enable_app(app_name)
    return no_content()
