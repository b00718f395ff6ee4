"""Donations and membership fees within French political-financing law (loi n° 88-227, art. 11-4).

See docs/donations.md for what the law requires and where each requirement is enforced.
"""
