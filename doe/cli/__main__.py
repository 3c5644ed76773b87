"""``python -m doe.cli``: the ``doe`` command."""

from doe.cli import main

main()
