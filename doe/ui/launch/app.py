"""The doe web app as ``doe app`` serves it (see :mod:`doe.ui.launch`)."""

from doe.ui.entry import main

main()
