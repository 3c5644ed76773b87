"""The Streamlit web app of doe: pages for process engineers over :class:`doe.Campaign`.

``doe.ui.entry`` is the app; ``doe app`` serves it through ``doe/ui/launch/app.py`` (a script
with no ``pages/`` folder beside it, see :mod:`doe.ui.launch`), ``streamlit run app.py`` through
``app.py`` at the repository root. ``doe.ui.pages`` holds one script per page. The helpers ``config_form``, ``tables`` and
``surface`` hold the page logic that needs no Streamlit.
"""
