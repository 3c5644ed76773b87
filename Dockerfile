# doe web app: Streamlit on the embedded SQLite database (volume /data), or on PostgreSQL
# with DOE_DATABASE_URL=postgresql+psycopg://user:password@host:5432/doe (see compose.yaml).
#
#   docker build -t doe .
#   docker run --rm -i -v doe-data:/data doe doe user add admin --role admin --password-stdin < pw.txt
#   docker run -p 8501:8501 -v doe-data:/data doe
#
# The app asks for a sign-in: `doe app --host 0.0.0.0` refuses to start until an account exists
# (the first command above) or single sign-on is configured (DOE_OIDC_*, see the README).
#
# The install follows the README: a virtual environment, torch==2.13.0 first (the CPU build),
# then the package itself (non-editable) with the instrument-file readers, here also with the
# PostgreSQL driver and the job queue of `doe worker` (procrastinate).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" torch==2.13.0
COPY pyproject.toml README.md ./
COPY doe ./doe
RUN /opt/venv/bin/pip install --no-cache-dir ".[instruments,postgres,workers]"

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DOE_HOME=/data \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
RUN groupadd --system --gid 10001 doe \
    && useradd --system --uid 10001 --gid doe --home-dir /data --shell /usr/sbin/nologin doe \
    && mkdir -p /data \
    && chown doe:doe /data
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"]
CMD ["doe", "app", "--host", "0.0.0.0", "--port", "8501"]
