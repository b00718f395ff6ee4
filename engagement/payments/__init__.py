"""Payments through a provider's hosted page (Stripe): no card number ever reaches our servers.

`events` is what the rest of the platform reads: a provider's webhook, verified, turned into a `PaymentEvent`.
`stripe_gateway` speaks to Stripe through its official library (Checkout Sessions, subscriptions, refunds).
"""
