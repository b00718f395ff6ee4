"""Campaigns: an organizer's message to an audience, expanded and sent in the background."""

# Whenever campaigns exist, their messages are filled in as they leave: `messages` registers with the mail.
from engagement.campaigns import messages as _messages  # noqa: F401
