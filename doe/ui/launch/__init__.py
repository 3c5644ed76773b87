"""The script ``doe app`` hands to Streamlit (:mod:`doe.ui.launch.app`).

It lives in a folder of its own: Streamlit treats a script with a ``pages/`` folder beside it
(``doe/ui/pages``) as an old-style multipage app until ``st.navigation`` has run once in the
server, so a first request for a page's link (``/plan?campaign=...``) ran that page alone,
without the sign-in, the sidebar or the campaign from the link.
"""
