"""Accounts: members, organizers, analysts and admins."""
