"""Outbound mail: composed in the transaction, delivered through the outbox."""
