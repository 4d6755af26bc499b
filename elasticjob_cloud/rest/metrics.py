"""``GET /metrics``: the Prometheus exposition of this instance (``metrics.Metrics``).

Open without credentials, as Prometheus scrapes it; it reveals counts, never configurations.
An app built without metrics (``Services.metrics`` None) answers an empty exposition.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

blueprint = Blueprint("metrics", __name__)

EMPTY_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@blueprint.get("/metrics")
def metrics() -> Any:
    found = current_app.extensions["elasticjob"].metrics
    if found is None:
        return Response(b"", mimetype=None, content_type=EMPTY_CONTENT_TYPE)
    body, content_type = found.exposition()
    return Response(body, content_type=content_type)
