"""The Streamlit web app of doe: pages for process engineers over :class:`doe.Campaign`.

``doe.ui.entry`` is the app (``streamlit run`` it, or ``app.py`` at the repository root);
``doe.ui.pages`` holds one script per page. The helpers ``config_form``, ``tables`` and
``surface`` hold the page logic that needs no Streamlit.
"""
