"""Data Docs views that escape what they show.

Great Expectations 1.24 escapes the parameters of its string templates, but writes every other value into
the page as it is: table cells (the unexpected values and the rows that hold them), list items, mappings
without a block type, and the JSON of graphs inside ``<script>``. Those values come from the sources — a
start time of ``<img src=x onerror=alert(1)>`` is quarantined and shown as an unexpected value — so a page
would otherwise run a source's markup in the operator's browser. These views escape each such value where
GX renders it; GX's own markup arrives as blocks (mappings with a ``content_block_type``) and passes
through to its templates unchanged.

``runner.build_data_docs`` names these classes in the Data Docs site configuration (``VIEWS``).
"""

from __future__ import annotations

import html
import json
from typing import Any

from great_expectations.render import RenderedComponentContent
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import pass_context

_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _is_block(value: Any) -> bool:
    return isinstance(value, RenderedComponentContent) or (isinstance(value, dict) and "content_block_type" in value)


def script_safe_json(value: Any) -> str:
    """JSON that cannot end the ``<script>`` it is written into: ``<``, ``>`` and ``&`` as JSON escapes."""
    text = value if isinstance(value, str) else json.dumps(value)
    for char, escaped in _SCRIPT_UNSAFE.items():
        text = text.replace(char, escaped)
    return text


class _EscapingView:
    """Escapes every value GX would write raw; blocks go to GX's templates (whose parameters it escapes)."""

    @pass_context
    def render_content_block(
        self,
        jinja_context: Any,
        content_block: Any,
        index: Any = None,
        content_block_id: Any = None,
        render_to_markdown: bool = False,
    ) -> Any:
        if content_block is None or isinstance(content_block, bool | int | float):
            return super().render_content_block(jinja_context, content_block, index, content_block_id)  # type: ignore[misc]
        if isinstance(content_block, list):
            content_block = [item if _is_block(item) else html.escape(str(item)) for item in content_block]
        elif not _is_block(content_block):
            return html.escape(str(content_block))
        elif isinstance(content_block, dict) and content_block.get("content_block_type") == "graph":
            content_block = {**content_block, "graph": script_safe_json(content_block.get("graph"))}
        return super().render_content_block(  # type: ignore[misc]
            jinja_context, content_block, index, content_block_id, render_to_markdown
        )


class EscapingPageView(_EscapingView, DefaultJinjaPageView):
    """Expectation suite and validation result pages."""


class EscapingIndexPageView(_EscapingView, DefaultJinjaIndexPageView):
    """The Data Docs index page."""


VIEWS = {
    "page": {"module_name": __name__, "class_name": EscapingPageView.__name__},
    "index": {"module_name": __name__, "class_name": EscapingIndexPageView.__name__},
}
