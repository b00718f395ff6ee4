"""Refusals the engine reports to the visitor."""


class WorkflowError(Exception):
    """A refusal the visitor should read; ``code`` lets the web layer pick the page and status.

    Codes: ``stale`` (already sent or out of date), ``unknown_trigger``, ``no_transition`` (no
    condition holds), ``loop``, ``no_back``, ``invalid_recipient`` (a mail address from the answers
    cannot receive mail).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
