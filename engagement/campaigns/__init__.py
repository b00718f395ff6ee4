"""Campaigns: an organizer's message to an audience, expanded and sent in the background."""
