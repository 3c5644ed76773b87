"""The doe web app: ``streamlit run app.py`` (the page code lives in :mod:`doe.ui`)."""

from doe.ui.entry import main

main()
