"""One script per page of the web app; each runs its ``render()`` when Streamlit executes it."""
