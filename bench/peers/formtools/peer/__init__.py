"""The peer of bench/wizard_peers.py: django-formtools' NamedUrlSessionWizardView, as a Python team would write it."""
