"""Pieces every page uses: plain text for Markdown elements, safe download file names."""

from __future__ import annotations

import re

import pytest

from doe.ui.components import WORD_JOINER, file_name, plain

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


@pytest.mark.parametrize("text", [
    "[Log in again](https://evil.example) ![b](http://127.0.0.1:9/x.png)",
    "<img src=http://127.0.0.1:9/y.png> **bold** _it_ `code` ~~gone~~ $x^2$ :red[alarm] :material/home:",
    "see www.evil.example or mail a@evil.example & &lt; | a | b |",
    "# heading #", "- a list item", "1. a numbered item", "2) another", "> a quote",
])
def test_plain_escapes_every_markdown_and_html_trigger_and_keeps_the_text(text: str) -> None:
    escaped = plain(text)
    assert _ESCAPED.sub(r"\1", escaped).replace(WORD_JOINER, "") == text  # what the person reads
    unescaped = re.sub(r"\\.", "", escaped)  # what Markdown could still interpret
    # remark-gfm finds bare URLs and e-mail addresses after escapes are resolved:
    seen = _ESCAPED.sub(r"\1", escaped)
    assert not re.search(r"(?i)https?://|www\.|\w@\w", seen), seen
    assert not re.search(r"[\[\]()<>*_`~$:&|#@!]", unescaped), unescaped
    assert not re.search(r"(?i)www\.", unescaped)
    assert not re.match(r"\s*([-+]|\d+[.)])", unescaped)


def test_plain_is_one_line() -> None:
    assert plain("first\nsecond\r\nthird") == "first second third"


@pytest.mark.parametrize(("parts", "expected"), [
    (("hfo2-ncm85-demo", ".yaml"), "hfo2-ncm85-demo.yaml"),
    (("../../etc/passwd", ".json"), "etc_passwd.json"),
    (("[Log in](https://evil.example)", "-history.csv"), "Log_in_https_evil.example_-history.csv"),
    (('a"b\r\nc', ".csv"), "a_b_c.csv"),
    (("", ""), "download"),
])
def test_file_name_keeps_only_safe_characters(parts: tuple[str, str], expected: str) -> None:
    assert file_name(*parts) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("cell A (2).mpt", "cell A (2).mpt"),  # as uploaded: the label the doe command would give
    ("cell <b>A<b> **x**.mpt", "cell <b>A<b> **x**.mpt"),  # shown as plain text, never rendered
    ("cell <b>A</b>.mpt", "b>.mpt"),  # (a name with a slash is a path: no file system has one)
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\lab\\A.mpt", "A.mpt"),
    ("a\x00b\r\n.mpt", "ab.mpt"),
    ("..", "download"),
    ("x" * 200 + ".mpt", "x" * 196 + ".mpt"),
    ("电池" * 60 + ".mpt", "电池" * 32 + "电.mpt"),  # 364 bytes: too long for a file system (writing it failed)
])
def test_an_uploaded_files_name_is_kept_less_any_path(name: str, expected: str) -> None:
    from doe.ui.components import upload_name

    assert upload_name(name) == expected


def test_messages_name_the_apps_controls_not_the_python_api(tmp_path) -> None:
    import pandas as pd

    from doe.campaign import Campaign
    from doe.errors import DoeError
    from doe.ui.components import in_app_words

    campaign = Campaign.from_config("hfo2-ncm85", storage=f"sqlite:///{tmp_path / 'w.sqlite3'}", name="w", actor="a")
    recipe = dict(campaign.config.reference_recipe() or {})
    campaign.record(pd.DataFrame([{**recipe, "first_cycle_ce_pct": 88.0}]))
    messages = []
    campaign.record(pd.DataFrame([{**recipe, "anneal_time_h": 3.0, "experiment_id": "X1", "replicate": "A",
                                   "first_cycle_ce_pct": 85.0},
                                  {"experiment_id": "X1", "replicate": "B", "failed": True,
                                   "failure_reason": "cracked pellet"}]))
    for table, kwargs in ((pd.DataFrame([{**recipe, "first_cycle_ce_pct": 88.0}]), {}),  # a repeat
                          (pd.DataFrame([{"experiment_id": "E0001", "first_cycle_ce_pct": 90.0}]), {}),  # a change
                          (pd.DataFrame([{"experiment_id": "X1", "replicate": "B",  # a failed cell's value
                                          "first_cycle_ce_pct": 91.0}]), {})):
        with pytest.raises(DoeError) as caught:
            campaign.record(table, **kwargs)
        messages.append(in_app_words(str(caught.value)))
    assert "tick 'Record rows again that match recorded experiments'" in messages[0]
    assert "use 'Correct the stored values'" in messages[1] and "use 'Correct the stored values'" in messages[2]
    assert not any("=True" in m for m in messages), messages
