"""Form fields bounded in size whatever the form's encoding.

``MAX_FORM_MEMORY_SIZE`` bounds each field of a multipart form, but Werkzeug 3.1.9 stopped applying it to
``application/x-www-form-urlencoded`` bodies (they are read whole, up to ``MAX_CONTENT_LENGTH``, 1 MiB):
a street of 600,000 characters reached the forms. ``Request`` applies the same per-field limit to
urlencoded forms, once the body is parsed; a field over it is a 413 (the friendly "too large" page), as
in a multipart form.
"""

from __future__ import annotations

from typing import IO, Any

from flask import Request as FlaskRequest
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser


def too_large(value: str, limit: int) -> bool:
    """Whether ``value`` takes more than ``limit`` bytes in UTF-8 (encoded only when it might)."""
    return len(value) > limit // 4 and len(value.encode("utf-8", "surrogatepass")) > limit


class BoundedFormDataParser(FormDataParser):
    """Werkzeug's parser, with ``max_form_memory_size`` on each urlencoded field (name and value) too."""

    def _parse_urlencoded(self, stream: IO[bytes], mimetype: str, content_length: int | None,
                          options: dict[str, str]) -> Any:
        parsed = super()._parse_urlencoded(stream, mimetype, content_length, options)
        limit = self.max_form_memory_size
        if limit is not None:
            for name, value in parsed[1].items(multi=True):
                if too_large(name, limit) or too_large(value, limit):
                    raise RequestEntityTooLarge()
        return parsed


class Request(FlaskRequest):
    """The application's request: its form fields bounded in size whatever their encoding."""

    form_data_parser_class = BoundedFormDataParser
