"""Small pieces every page uses: error display, who is signed in and what they may do, the
selected campaign."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import pandas as pd
import streamlit as st

from doe.campaign import Campaign
from doe.domain.access import Identity, Permission, allowed, refusal
from doe.domain.config import CampaignConfig
from doe.errors import DataError, DoeError
from doe.storage.urls import where_texts
from doe.ui import resources, state
from doe.ui.tables import problems_frame

if TYPE_CHECKING:
    from doe.domain.records import RecordReport

logger = logging.getLogger(__name__)

# Characters that start Markdown (emphasis, code, links, images, math, tables, headings, Streamlit's
# ``:color[...]`` and ``:icon:`` directives), raw HTML or an entity, or a bare URL or e-mail autolink.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]()<>{}$:&|#@!=^])")
_LIST_MARKER = re.compile(r"^(\s*)([-+]|\d+(?=[.)]))")
_WWW = re.compile(r"(?i)\b(www)\.")
WORD_JOINER = "\u2060"
"""An invisible character that :func:`plain` puts inside URLs and e-mail addresses."""
_FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


DOUBLE_CLICK_S = 2.0
"""A press of the same button this soon after its action was done is taken as a double click's second."""

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


def upload_name(name: str) -> str:
    """An uploaded file's name as the person's computer had it, as the doe command sees it (so a
    cell labelled by its file's name has one label in both): its last path part (a browser sends
    none) less control characters; :func:`file_name` where nothing of it is left."""
    last = "".join(ch for ch in re.split(r"[\\/]", name)[-1] if ch.isprintable())
    stem, dot, suffix = last.rpartition(".")
    stem, suffix = (stem, dot + suffix) if dot and stem else (last, "")
    while len((stem + suffix).encode("utf-8")) > 200:  # a file system takes 255 bytes: shortened, its suffix kept
        stem = stem[:-1]
    return stem + suffix if stem.strip(" .") else file_name(name)


# Hints of the Python API in doe's messages, as the app's controls say them.
APP_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"To correct a value pass allow_corrections=True \(record with correct=True\); ?"),
     "To change a recorded value, use 'Correct the stored values'; "),
    (re.compile(r"With correct=True "), "With 'Correct the stored values' "),
    (re.compile(r", pass allow_corrections=True \(record with correct=True\)"), ", use 'Correct the stored values'"),
    (re.compile(r"\(pass allow_duplicates=True to record them again\)"),
     "(tick 'Record rows again that match recorded experiments' to record true repeat runs)"),
    (re.compile(r"\bvalid_rows_only=True\b"), "'Record the valid rows and list the others'"),
)


def in_app_words(message: str) -> str:
    """``message`` with the Python API's hints (``allow_corrections=True`` ...) replaced by the
    app's controls ("use 'Correct the stored values'")."""
    for pattern, words in APP_WORDS:
        message = pattern.sub(words, message)
    return message


def report_text(report: RecordReport) -> str:
    """What a ``record()`` did (:class:`~doe.domain.records.RecordReport`), in one sentence."""
    parts = [f"{report.measurements_added} value(s) recorded"]
    if report.measurements_corrected:
        parts.append(f"{report.measurements_corrected} corrected (old values kept in the history)")
    if report.measurements_withdrawn:
        parts.append(f"{report.measurements_withdrawn} withdrawn from failed cells (kept in the history)")
    if report.measurements_unchanged:
        parts.append(f"{report.measurements_unchanged} unchanged")
    if report.context_not_stored:
        parts.append(f"{len(report.context_not_stored)} unchanged value(s) came with another note, operator, sample "
                     "id or date, not stored (correct the stored values below to store it)")
    if report.created:
        parts.append(f"{len(report.created)} new experiment(s): {', '.join(report.created)}")
    if report.marked_failed:
        parts.append(f"marked failed: {', '.join(report.marked_failed)}")
    if report.failed_cells:  # the experiment has results from other cells: it stays completed
        parts.append(f"failed cell(s) ({report.cell_failures_added} newly stored), the experiment keeps its other "
                     f"cells' results: {'; '.join(report.failed_cells)}")
    if report.never_made:
        parts.append(f"{len(report.never_made)} row(s) left out, experiments never made in their campaign: "
                     f"{'; '.join(map(str, report.never_made))}")
    if report.not_measured:
        parts.append(f"{len(report.not_measured)} row(s) left out, experiments with no result yet (they stay "
                     f"pending): {'; '.join(map(str, report.not_measured))}")
    return "; ".join(parts) + "."


HIDDEN_ADDRESS = "(the database's address, shown to admins only)"


def for_reader(message: str) -> str:
    """``message`` as the person of this run may read it: where the database is (its URL, masked
    or not, and an SQLite file's path) is shown to admins only, so for anyone else, a visitor not
    signed in too, it reads :data:`HIDDEN_ADDRESS`."""
    who = st.session_state.get(state.IDENTITY)
    if isinstance(who, Identity) and who.role == "admin":
        return message
    for text in where_texts(resources.database_url()):
        message = message.replace(repr(text), HIDDEN_ADDRESS).replace(text, HIDDEN_ADDRESS)
    return message


def show_error(err: DoeError, table: pd.DataFrame | None = None) -> None:
    """A doe error as the person sees it (in the app's words, where the database is for admins
    only: :func:`for_reader`): the message, and every bad cell as a table."""
    if isinstance(err, DataError) and err.problems:
        first = in_app_words(for_reader(str(err).splitlines()[0]))
        st.error(plain(first))
        st.dataframe(problems_frame(err.problems, table), hide_index=True, width="stretch")
        return
    lines = in_app_words(for_reader(str(err))).splitlines()
    if len(lines) > 1:
        body = "\n".join(f"- {plain(line.strip().removeprefix('- '))}" for line in lines[1:] if line.strip())
        st.error(f"{plain(lines[0])}\n\n{body}")
    else:
        st.error(plain(lines[0] if lines else ""))


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


def unflash(kind: Literal["success", "info", "warning"], text: str) -> None:
    """Take back a :func:`flash` of this run that the run also drew itself and came to its end
    (no ``st.rerun()`` wiped it): the next run does not show it again."""
    pending = st.session_state.get(state.FLASH, [])
    if (kind, text) in pending:
        pending.remove((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state.pop(state.FLASH, []):
        getattr(st, kind)(plain(text))


def identity() -> Identity:
    """The person using the app in this run (set by :func:`doe.ui.signin.signed_in`)."""
    who = st.session_state.get(state.IDENTITY)
    if not isinstance(who, Identity):  # a page run without the entry (cannot happen in the app)
        raise DoeError("nobody is signed in; reload the page")
    return who


def _campaign_for(permission: Permission, campaign: str | None) -> str | None:
    if campaign is None and permission in ("plan", "record"):
        selected = st.session_state.get(state.CAMPAIGN)
        return selected if isinstance(selected, str) else None
    return campaign


def can(permission: Permission, campaign: str | None = None) -> bool:
    """Whether the person signed in may do ``permission`` (in the selected campaign for plan
    and record, unless ``campaign`` is given)."""
    return allowed(identity(), permission, _campaign_for(permission, campaign))


def refused(permission: Permission, campaign: str | None = None) -> bool:
    """True, with a plain note saying why, when the person may not do ``permission``."""
    reason = refusal(identity(), permission, _campaign_for(permission, campaign))
    if reason is not None:
        st.info(plain(reason))  # it names the campaign and the user: their text, never Markdown
    return reason is not None


def require(permission: Permission, campaign: str | None = None) -> str | None:
    """The name to record as acting, or (with a warning) None when the person signed in may
    not do ``permission``: then change nothing."""
    who = identity()
    reason = refusal(who, permission, _campaign_for(permission, campaign))
    if reason is not None:
        st.warning(plain(reason))
        return None
    return who.username


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
    allow_duplicates: bool = False
    sheet: str | int = 0  # a workbook's sheet: its name, else the first


def one_off_checkbox(label: str, key: str, help: str | None = None) -> bool:
    """A checkbox for a deliberate one-off act (replace stored values, record rows again): drawn
    unticked on the run after :func:`untick` asked for it, so one save it allowed does not leave it
    allowing the next ones unasked."""
    pending: set[str] = st.session_state.get(state.UNTICK, set())
    if key in pending:  # before the widget is drawn: Streamlit refuses a change to a widget drawn this run
        st.session_state[key] = False
        st.session_state[state.UNTICK] = pending - {key}
    return st.checkbox(label, key=key, help=help)


def untick(key: str) -> None:
    """Untick the :func:`one_off_checkbox` ``key`` on the next run (call it once its save is done)."""
    st.session_state[state.UNTICK] = {*st.session_state.get(state.UNTICK, set()), key}


def file_upload_form(form: str, label: str, submit: str, *, file_key: str, mapping_key: str,
                     valid_key: str, duplicates_key: str,
                     permission: Permission = "record") -> FileUpload | None:
    """The upload form shared by the Campaigns (history import) and Record (results) pages;
    returns the submitted file once it and the person acting are known, else None. The page
    calls :func:`untick` on ``duplicates_key`` once the file is recorded."""
    with st.form(form):
        upload = st.file_uploader(label, type=["csv", "xlsx"], key=file_key)
        mapping_text = st.text_area("Column mapping (optional), one per line: file column = doe column",
                                    key=mapping_key, placeholder="CE (%) = first_cycle_ce_pct")
        valid_only = st.checkbox("Record the valid rows and list the others", key=valid_key)
        duplicates = one_off_checkbox("Record rows again that match recorded experiments (true repeat runs)",
                                      key=duplicates_key,
                                      help="Without it, rows without experiment_id whose parameters and values "
                                           "are already recorded are refused, so a file imported twice is not "
                                           "doubled. Unticked again once a file is recorded.")
        sheet = st.text_input("Sheet (Excel, optional)", key=f"{file_key}:sheet", placeholder="the first sheet",
                              help="The name of the workbook's sheet to read, as its tab shows it.")
        submitted = st.form_submit_button(submit)
    if not submitted:
        return None
    if upload is None:
        st.warning("Choose a CSV or Excel file first.")
        return None
    person = require(permission)
    if person is None:
        return None
    file_format: Literal["csv", "xlsx"] = "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
    return FileUpload(upload.name, upload.getvalue(), file_format, mapping_text or "", bool(valid_only), person,
                      bool(duplicates), sheet if sheet and sheet.strip() else 0)


@contextmanager
def worker_progress() -> Iterator[None]:
    """While a suggestion waits for a ``doe worker`` (PostgreSQL), a line saying where its job
    stands, updated on every poll; nothing when the suggestion is computed here."""
    from doe.workers import JobProgress, progress_listener

    line = st.empty()
    words = {"todo": "queued for a worker", "doing": "a worker is computing it"}

    def show(progress: JobProgress) -> None:
        line.text(f"Job {progress.job_id}: {words.get(progress.status, progress.status)} "
                  f"({progress.waited_s:.0f} s; {progress.live_workers} worker(s) alive)")

    try:
        with progress_listener(show):
            yield
    finally:
        line.empty()
