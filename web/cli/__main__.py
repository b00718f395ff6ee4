"""``python -m web.cli``: the ``engagement`` command."""

from web.cli import main

if __name__ == "__main__":
    main()
