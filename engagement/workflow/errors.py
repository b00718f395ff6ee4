"""Refusals the engine reports to the visitor."""

from __future__ import annotations


class WorkflowError(Exception):
    """A refusal the visitor should read; ``code`` lets the web layer pick the page and status.

    Codes: ``stale`` (already sent or out of date), ``unknown_trigger``, ``no_transition`` (no
    condition holds), ``loop``, ``no_back``, ``invalid_recipient`` (a mail address from the answers
    cannot receive mail), ``rate_limited`` (a transition's ``rate_limit``; ``retry_after`` seconds),
    and the codes of registered actions (``email_taken``, ``invitation_*``). ``field`` names the
    answer the refusal is about, when there is one, so the page can show it next to that field.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.retry_after = retry_after
