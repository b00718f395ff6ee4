"""Form fields bounded in size whatever the form's encoding.

``MAX_FORM_MEMORY_SIZE`` bounds each field of a multipart form, but Werkzeug 3.1.9 stopped applying it to
``application/x-www-form-urlencoded`` bodies (they are read whole, up to ``MAX_CONTENT_LENGTH``, 1 MiB):
a street of 600,000 characters reached the forms. ``Request`` applies the same per-field limit to
urlencoded forms, once the body is parsed; a field over it is a 413 (the friendly "too large" page), as
in a multipart form.

A urlencoded body must also be UTF-8 once its percent-escapes are decoded: Werkzeug keeps an invalid sequence
as its escapes (``ab%ED%A0%80cd`` reached a form as those ten characters, and became an event's slug) and
reads a body of raw invalid bytes as an empty form. Either is a 400 ("malformed form data"): a browser always
sends the page's UTF-8, so only a forged request is refused, and no field ever holds what was not sent.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import parse_qsl

from flask import Request as FlaskRequest
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser


def too_large(value: str, limit: int) -> bool:
    """Whether ``value`` takes more than ``limit`` bytes in UTF-8 (encoded only when it might)."""
    return len(value) > limit // 4 and len(value.encode("utf-8", "surrogatepass")) > limit


class BoundedFormDataParser(FormDataParser):
    """Werkzeug's parser, with ``max_form_memory_size`` on each urlencoded field (name and value) too, and a
    400 for a urlencoded body that is not UTF-8."""

    def _parse_urlencoded(self, stream: IO[bytes], mimetype: str, content_length: int | None,
                          options: dict[str, str]) -> Any:
        # Werkzeug's own parse (the stream is already limited to MAX_CONTENT_LENGTH, and read whole), with
        # strict decoding where it keeps invalid escapes as they came.
        try:
            fields = parse_qsl(stream.read().decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise BadRequest("malformed form data: not UTF-8") from None
        limit = self.max_form_memory_size
        if limit is not None:
            for name, value in fields:
                if too_large(name, limit) or too_large(value, limit):
                    raise RequestEntityTooLarge()
        return stream, self.cls(fields), self.cls()


class Request(FlaskRequest):
    """The application's request: its form fields bounded in size whatever their encoding."""

    form_data_parser_class = BoundedFormDataParser
