"""Ctrl-C in real ``doe`` subprocesses: exit code 130 and a message that says what was stored.

The command runs with ``doe.io.writing.write_file`` made to announce itself on stderr and then
wait, so that SIGINT lands while the file is being written (on a condition, not a timer)."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from doe import Campaign, load_config

SLOW_WRITER = """
import sys, time
import doe.io.writing as writing
def waiting(*args, **kwargs):
    print("WRITING", file=sys.stderr, flush=True)
    time.sleep(120)
writing.write_file = waiting
from doe.cli import main
main()
"""


def _default_sigint() -> None:
    """In the child: Ctrl-C acts as at a terminal. A test run started in the background by a
    non-interactive shell (``cmd &``, nohup) ignores SIGINT, its children inherit that, and
    Python then installs no KeyboardInterrupt handler: the signal was lost and the test hung."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupted(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``doe ARGS`` interrupted by SIGINT while it writes its --out file."""
    (tmp_path / "slow_writer.py").write_text(SLOW_WRITER, encoding="utf-8")
    env = {**os.environ, "DOE_HOME": str(tmp_path / "home"), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "slow_writer.py", *args], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_sigint)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("WRITING"):
            proc.send_signal(signal.SIGINT)
            break
    stdout, rest = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, "".join(lines) + rest)


@pytest.fixture()
def lab(tmp_path: Path) -> Path:
    db = tmp_path / "lab.sqlite3"
    Campaign.from_config(load_config("hfo2-ncm85").replace(name="line 3"), storage=str(db))
    return db


def test_ctrl_c_while_suggest_writes_says_the_batch_is_stored_and_exits_130(lab: Path, tmp_path: Path) -> None:
    done = interrupted(tmp_path, "suggest", "--db", str(lab), "--campaign", "line 3", "-n", "2",
                       "--design", "latin_hypercube", "--out", "sheet.csv")
    assert done.returncode == 130, done.stderr
    assert "interrupted before the run sheet" in done.stderr
    assert "batch B0001 (E0001, E0002) was stored as proposed" in done.stderr
    assert "`doe export --campaign 'line 3' --out FILE` lists its recipes" in done.stderr
    assert "Aborted!" not in done.stderr and not (tmp_path / "sheet.csv").exists()
    assert Campaign.load("line 3", storage=str(lab)).history()["status"].tolist() == ["proposed", "proposed"]


def test_ctrl_c_in_any_command_exits_130(lab: Path, tmp_path: Path) -> None:
    done = interrupted(tmp_path, "export", "--db", str(lab), "--campaign", "line 3", "--out", "history.csv")
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr and "Aborted!" not in done.stderr


def _own_terminal() -> None:
    """In the child (a new session): make its standard input, a pseudo-terminal, its controlling
    terminal, so that getpass reads the password there and not from the test runner's terminal;
    Ctrl-C acts as at a terminal (:func:`_default_sigint`)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    _default_sigint()


def test_ctrl_c_at_a_password_prompt_exits_130_not_aborted(lab: Path, tmp_path: Path) -> None:
    """Ctrl-C at `doe user add`'s password prompt printed Click's 'Aborted!' and exited 1, where
    every other Ctrl-C says 'interrupted' and exits 130."""
    terminal, child_side = pty.openpty()
    env = {**os.environ, "DOE_HOME": str(tmp_path / "home"), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "doe.cli", "user", "add", "ada", "--role", "engineer",
                             "--db", str(lab)], cwd=tmp_path, env=env, stdin=child_side, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_own_terminal)
    try:
        deadline = time.monotonic() + 120
        # getpass turns the terminal's echo off while it waits for the password
        while termios.tcgetattr(child_side)[3] & termios.ECHO and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not termios.tcgetattr(child_side)[3] & termios.ECHO, "no password prompt"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        os.set_blocking(terminal, False)
        shown = os.read(terminal, 65536).decode() + out  # (the prompt: on the terminal or stdout)
    finally:
        proc.kill()
        os.close(terminal)
        os.close(child_side)
    assert "password for ada" in shown
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Aborted!" not in err + out
    from doe.storage.accounts import AccountStore

    assert AccountStore.open(f"sqlite:///{lab}").users().empty
