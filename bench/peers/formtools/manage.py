#!/usr/bin/env python
"""Django's command line for the peer (``migrate`` at bench set-up); run with build/venv-peers/bin/python."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
