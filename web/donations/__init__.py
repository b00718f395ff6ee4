"""Donations on the site: the donation workflow's payment page, the return from the provider, the stand-in
provider of a developer's machine (docs/donations.md)."""
