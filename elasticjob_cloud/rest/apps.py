"""``/api/app``: publish, update, list, delete, disable and enable apps."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from ..core.schemas import app_to_wire
from ..lifecycle import Lifecycle
from .bodies import json_body, json_response, no_content

blueprint = Blueprint("apps", __name__, url_prefix="/api/app")


def services() -> Any:
    """The app's ``Services`` (``rest.app``): the one way blueprints reach the use cases."""
    return current_app.extensions["elasticjob"]


def lifecycle() -> Lifecycle:
    return services().lifecycle


@blueprint.post("")
def register() -> Any:
    lifecycle().register_app(json_body())
    return no_content()


@blueprint.put("")
def update() -> Any:
    lifecycle().update_app(json_body())
    return no_content()


@blueprint.get("/list")
def list_apps() -> Any:
    apps = sorted(lifecycle().list_apps(), key=lambda app: app.app_name, reverse=True)
    return json_response([app_to_wire(app) for app in apps])


@blueprint.get("/<app_name>")
def detail(app_name: str) -> Any:
    return json_response(app_to_wire(lifecycle().get_app(app_name)))


@blueprint.delete("/<app_name>")
def delete(app_name: str) -> Any:
    lifecycle().delete_app(app_name)
    return no_content()


@blueprint.get("/<app_name>/disable")
def is_disabled(app_name: str) -> Any:
    return json_response(lifecycle().is_app_disabled(app_name))


@blueprint.post("/<app_name>/disable")
def disable(app_name: str) -> Any:
    lifecycle().disable_app(app_name)
    return no_content()


@blueprint.delete("/<app_name>/disable")
@blueprint.post("/<app_name>/enable")
def enable(app_name: str) -> Any:
    lifecycle().enable_app(app_name)
    return no_content()
