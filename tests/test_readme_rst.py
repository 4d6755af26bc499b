"""README.rst is the newcomer's manual: it must render. docutils reports a malformed table or a
broken directive as an error and GitHub then shows raw text; this test turns that into a failure."""

from __future__ import annotations

import io
from pathlib import Path

import docutils.core

README = Path(__file__).resolve().parent.parent / "README.rst"


def test_the_readme_parses_without_warnings():
    messages = io.StringIO()
    docutils.core.publish_doctree(
        README.read_text(encoding="utf-8"),
        source_path=str(README),
        settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": messages},
    )
    assert messages.getvalue() == ""
