"""Small pieces every page uses: error display, the person acting, the selected campaign."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

import pandas as pd
import streamlit as st

from doe.campaign import Campaign
from doe.domain.config import CampaignConfig
from doe.errors import DataError, DoeError
from doe.ui import resources, state
from doe.ui.tables import problems_frame

logger = logging.getLogger(__name__)

ACTOR_ENV = "DOE_ACTOR"

# Characters that start Markdown (emphasis, code, links, images, math, tables, headings, Streamlit's
# ``:color[...]`` and ``:icon:`` directives), raw HTML or an entity, or a bare URL or e-mail autolink.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]()<>{}$:&|#@!=^])")
_LIST_MARKER = re.compile(r"^(\s*)([-+]|\d+(?=[.)]))")
_WWW = re.compile(r"(?i)\b(www)\.")
WORD_JOINER = "\u2060"
"""An invisible character that :func:`plain` puts inside URLs and e-mail addresses."""
_FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def plain(text: object) -> str:
    """User text (a name, a note, a reason, an echoed value) for an element that renders Markdown
    (``st.title``, ``st.caption``, ``st.success``, widget labels ...): shown literally, never as a
    link, an image, HTML or formatting. Line breaks become spaces (an inline piece of text)."""
    flat = " ".join(str(text).splitlines())
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
    escaped = _WWW.sub(r"\1\\.", escaped)
    # Streamlit's Markdown (remark-gfm) finds bare URLs and e-mail addresses in the text after
    # escapes are resolved: an invisible word joiner inside "://", "www." and before "@" keeps
    # them from becoming links (what the person reads is unchanged).
    escaped = escaped.replace("\\://", f"\\:{WORD_JOINER}//").replace("\\@", f"{WORD_JOINER}\\@")
    escaped = re.sub(r"(?i)(www)\\\.", rf"\1{WORD_JOINER}\\.", escaped)
    return _LIST_MARKER.sub(lambda m: f"{m.group(1)}{m.group(2)}\\" if m.group(2)[0].isdigit()
                            else f"{m.group(1)}\\{m.group(2)}", escaped, count=1)


def file_name(*parts: str) -> str:
    """A download file name from user text (a campaign name): letters, digits, ``.``, ``_`` and
    ``-`` kept, every other run of characters one ``_`` (no path, no quote, no control character)."""
    name = _FILE_NAME_UNSAFE.sub("_", "".join(parts)).strip("._") or "download"
    return name[:150]


def show_error(err: DoeError, table: pd.DataFrame | None = None) -> None:
    """A doe error as the person sees it: the message, and every bad cell as a table."""
    if isinstance(err, DataError) and err.problems:
        first = str(err).splitlines()[0]
        st.error(plain(first))
        st.dataframe(problems_frame(err.problems, table), hide_index=True, width="stretch")
        return
    lines = str(err).splitlines()
    if len(lines) > 1:
        body = "\n".join(f"- {plain(line.strip().removeprefix('- '))}" for line in lines[1:] if line.strip())
        st.error(f"{plain(lines[0])}\n\n{body}")
    else:
        st.error(plain(str(err)))


class guard:
    """Run a user action; show a :class:`DoeError` as a message, log anything else.

    Usage::

        with guard("recording the results", table) as action:
            campaign.record(table)
        if action.ok:
            st.success(...)

    Nothing else escapes: a bug is logged with its traceback and shown as a short message.
    """

    def __init__(self, action: str, table: pd.DataFrame | None = None) -> None:
        self.action = action
        self.table = table
        self.ok = False
        self.error: BaseException | None = None

    def __enter__(self) -> guard:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if error is None:
            self.ok = True
            return False
        if not isinstance(error, Exception):
            return False  # st.rerun / st.stop and interrupts pass through
        self.error = error
        if isinstance(error, DoeError):
            logger.info("%s: %s", self.action, error)
            show_error(error, self.table)
        else:
            logger.error("unexpected error while %s", self.action, exc_info=(kind, error, tb))  # type: ignore[arg-type]
            st.error(f"Something went wrong while {plain(self.action)}. The details are in the server log; "
                     "nothing was changed by this step if it did not finish.")
        return True


def flash(kind: Literal["success", "info", "warning"], text: str) -> None:
    """A message to show once on the next run (after ``st.rerun()``), as plain text."""
    st.session_state.setdefault(state.FLASH, []).append((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state.pop(state.FLASH, []):
        getattr(st, kind)(plain(text))


def actor() -> str | None:
    """The person acting, as entered in the sidebar (None if not entered yet)."""
    name = st.session_state.get(state.ACTOR)
    return name.strip() if isinstance(name, str) and name.strip() else None


def default_actor() -> str:
    """``DOE_ACTOR`` (set by ``doe app --actor NAME``): the sidebar's name until the person types
    another one ("" when unset)."""
    return os.environ.get(ACTOR_ENV, "").strip()


def require_actor() -> str | None:
    """The person acting, or a warning asking for the name (then None: change nothing)."""
    name = actor()
    if name is None:
        st.warning("Enter your name in the sidebar first: doe records who made each change.")
    return name


def current_handle() -> resources.CampaignHandle | None:
    """The selected campaign's shared handle (None, with a note, when there is none)."""
    name = st.session_state.get(state.CAMPAIGN)
    if not name:
        st.info("No campaign selected: create one on the Campaigns page.")
        return None
    url = resources.database_url()
    with guard(f"opening campaign {name!r}") as action:
        handle = resources.campaign_handle(url, name)
    return handle if action.ok else None


def keep_in_url(parameter: str, value: str | None) -> None:
    """``?parameter=value`` in the page's URL (removed when ``value`` is None)."""
    if value is None:
        st.query_params.pop(parameter, None)
    elif st.query_params.get(parameter) != value:
        st.query_params[parameter] = value


def select_campaign(name: str) -> None:
    """Select ``name`` in the sidebar on the next run (call ``st.rerun()`` after)."""
    st.session_state[state.NEXT_CAMPAIGN] = name


@dataclass(frozen=True)
class OpenCampaign:
    """What a campaign page starts from: the shared handle, its campaign and configuration."""

    handle: resources.CampaignHandle
    campaign: Campaign
    config: CampaignConfig


def campaign_page(title: str) -> OpenCampaign | None:
    """The preamble of every campaign page: the selected campaign (None, with a note, when there
    is none) and the page title ``"<title>: <campaign name>"``, the name shown as plain text."""
    handle = current_handle()
    if handle is None:
        return None
    campaign = handle.campaign
    st.title(f"{title}: {plain(campaign.name)}")
    return OpenCampaign(handle, campaign, campaign.config)


@dataclass(frozen=True)
class FileUpload:
    """A submitted results or history file, with its column mapping and who sent it."""

    name: str
    data: bytes
    file_format: Literal["csv", "xlsx"]
    mapping_text: str
    valid_rows_only: bool
    person: str


def file_upload_form(form: str, label: str, submit: str, *, file_key: str, mapping_key: str,
                     valid_key: str) -> FileUpload | None:
    """The upload form shared by the Campaigns (history import) and Record (results) pages;
    returns the submitted file once it and the person acting are known, else None."""
    with st.form(form):
        upload = st.file_uploader(label, type=["csv", "xlsx"], key=file_key)
        mapping_text = st.text_area("Column mapping (optional), one per line: file column = doe column",
                                    key=mapping_key, placeholder="CE (%) = first_cycle_ce_pct")
        valid_only = st.checkbox("Record the valid rows and list the others", key=valid_key)
        submitted = st.form_submit_button(submit)
    if not submitted:
        return None
    if upload is None:
        st.warning("Choose a CSV or Excel file first.")
        return None
    person = require_actor()
    if person is None:
        return None
    file_format: Literal["csv", "xlsx"] = "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
    return FileUpload(upload.name, upload.getvalue(), file_format, mapping_text or "", bool(valid_only), person)
