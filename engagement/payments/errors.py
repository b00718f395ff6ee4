"""The gateway's refusals, importable without the provider's library (it takes a third of a second to import)."""

from __future__ import annotations


class GatewayError(Exception):
    """Stripe could not be reached or refused a call; ``retryable`` when the same call may succeed later."""

    def __init__(self, message: str, retryable: bool, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable, self.status, self.code = retryable, status, code


class InvalidWebhook(Exception):
    """A webhook body that is not a genuine, recent Stripe event (the reason never quotes the body)."""
