"""Every Streamlit session-state key of the web app, in one place.

Widgets that tests and the browser test address are keyed with these names too.
"""

from __future__ import annotations

# --- the session
USER = "signed_in_user"
"""The :class:`doe.auth.accounts.PasswordSession` of the person signed in with a built-in
account (kept across runs)."""
IDENTITY = "identity"
"""The :class:`doe.domain.access.Identity` of this run (read afresh each run); its name is
recorded with every change."""
SIGN_IN_USER = "sign_in_user"
SIGN_IN_PASSWORD = "sign_in_password"
SIGN_OUT = "sign_out"
SIGNED_OUT_NOTE = "signed_out_note"
SESSION_OWNER = "session_owner"
"""The account name whose work this browser session holds (unsaved grid values, a table kept
for a correction, open forms): another person signing in on it starts from a clean session."""
SSO_SIGN_IN = "sso_sign_in"
SSO_SESSION = "sso_session"
"""The :class:`doe.auth.accounts.SsoSession` of the person signed in by single sign-on: the
database's time this app session first let them in (kept across runs)."""
CAMPAIGN = "campaign"
"""The selected campaign's name (sidebar selectbox)."""


def of_campaign(key: str, campaign: str) -> str:
    """The key of a widget whose value belongs to one campaign (experiments chosen, a held value):
    a widget of its own per campaign, so a choice made for one campaign is never shown or sent
    for the next one the sidebar selects (every campaign has an E0002; a form keeps what a widget
    of the same key holds, unsent, across the switch)."""
    return f"{key}@{campaign}"

NEXT_CAMPAIGN = "next_campaign"
"""A campaign to select on the next run (set by a page before ``st.rerun()``)."""
URL_CAMPAIGN = "campaign"
"""The query parameter holding the selected campaign (``?campaign=NAME``): a reload or a shared
link opens the same campaign."""
FLASH = "flash"
"""Messages to show once after a rerun: list of (kind, text)."""

# --- Campaigns page
NEW_SOURCE = "campaigns_new_source"
NEW_TEMPLATE = "campaigns_new_template"
NEW_NAME = "campaigns_new_name"
NEW_DESCRIPTION = "campaigns_new_description"
NEW_PARAMETERS = "campaigns_new_parameters"
NEW_OUTCOMES = "campaigns_new_outcomes"
NEW_CONSTRAINTS = "campaigns_new_constraints"
NEW_OBJECTIVE_MODE = "campaigns_new_objective_mode"
EDIT_PARAMETERS = "campaigns_edit_parameters"
EDIT_OUTCOMES = "campaigns_edit_outcomes"
EDIT_CONSTRAINTS = "campaigns_edit_constraints"
EDIT_OBJECTIVE_MODE = "campaigns_edit_objective_mode"
EDIT_DESCRIPTION = "campaigns_edit_description"
NEW_LEARN_FROM = "campaigns_new_learn_from"
EDIT_LEARN_FROM = "campaigns_edit_learn_from"
EDIT_ANYWAY = "campaigns_edit_anyway"
EDIT_BASE = "campaigns_edit_base"
"""dict campaign name -> the configuration version (``ConfigVersion``: number and configuration, as
read) its edit form was opened on."""
CLONE_NAME = "campaigns_clone_name"
CLONE_HISTORY = "campaigns_clone_history"
ARCHIVE_CONFIRM = "campaigns_archive_confirm"  # + ":<campaign>": a tick is for that campaign only
ARCHIVED_NOW = "campaigns_archived_now"  # the campaign this session just archived (no 'archived?' warning)
RESTORE_NAME = "campaigns_restore_name"
IMPORT_FILE = "campaigns_import_file"
IMPORT_MAPPING = "campaigns_import_mapping"
IMPORT_VALID_ONLY = "campaigns_import_valid_only"
IMPORT_ALLOW_DUPLICATES = "campaigns_import_allow_duplicates"
IMPORT_REJECTED = "campaigns_import_rejected"  # rows an import left out, shown after its rerun
SHOW_ARCHIVED = "campaigns_show_archived"

# --- Plan page
DESIGN = "plan_design"
SUGGEST_PRESS = "plan_suggest_press"  # (campaign, request, batch id or None while proposing, monotonic time)
BATCH_SIZE = "plan_batch_size"
FIXED_NAMES = "plan_fixed_names"
FIXED_VALUE_PREFIX = "plan_fixed_value_"
CANDIDATE_FILE = "plan_candidate_file"
ACCEPT_IDS = "plan_accept_ids"
LISTED_IDS = "plan_listed_ids"  # (campaign, the proposed ids the page listed in its last run)
ABANDON_REASON = "plan_abandon_reason"
LAST_SUGGESTIONS = "plan_last_suggestions"

# --- Record page
GRID_SHOW = "record_grid_show"
GRID = "record_grid"
"""Prefix of the Record grid's editor key (``record_grid_<n>``, a new n whenever its data change)."""
GRID_SHOWN = "record_grid_shown"
"""The grid as last handed to the editor (key, data, stored values, the campaign's stored state)."""
GRID_UNSAVED = "record_grid_unsaved"
GRID_LEFT_OUT = "record_grid_left_out"  # the warning naming unsaved values of runs gone from the grid, this run
"""The person's unsaved grid values by experiment id and column (kept across reruns and pages)."""
CORRECT = "record_correct"
UNTICK = "untick_next_run"
"""Keys of one-off checkboxes (a correction, recording rows again) to untick on the next run, once
the save they allowed is done (:func:`doe.ui.components.one_off_checkbox`)."""
PENDING_CORRECTION = "record_pending_correction"
FAIL_IDS = "record_fail_ids"
FAIL_REASON = "record_fail_reason"
RESULTS_FILE = "record_results_file"
RESULTS_MAPPING = "record_results_mapping"
RESULTS_VALID_ONLY = "record_results_valid_only"
RESULTS_ALLOW_DUPLICATES = "record_results_allow_duplicates"
HISTORY_EDITOR = "record_history_editor"
REPLICATE_EDITOR = "record_replicate_editor"
CYCLE_EDITOR = "record_cycle_editor"
REJECTED_ROWS = "record_rejected_rows"

# --- Insights page
PARETO_X = "insights_pareto_x"
PARETO_Y = "insights_pareto_y"
SURFACE_X = "insights_surface_x"
SURFACE_Y = "insights_surface_y"
SURFACE_OUTCOME = "insights_surface_outcome"
PROFILE_OUTCOME = "insights_profile_outcome"
PROFILE_RECIPE = "insights_profile_recipe"
INSIGHTS_SECTION = "section"
"""The Insights section shown (one at a time: the browser draws only that section's plots); also
the query parameter that holds it by its label (``?section=Pareto+front``), so a reload or a link opens the same one."""

# --- History page
FILTER_STATUS = "history_filter_status"
FILTER_BATCH = "history_filter_batch"
FILTER_TEXT = "history_filter_text"
EVIDENCE_FILE = "history_evidence_file"
GRID_PARAMETERS = "record_grid_parameters"
CYCLER_EXPERIMENT = "cycler_experiment"
CYCLER_MASS = "cycler_mass_mg"
CYCLER_FILES = "cycler_files"
CYCLER_LABELS = "cycler_cell_labels"
CYCLER_CORRECT = "cycler_correct"
CYCLER_CORRECT_VERSION = f"{CYCLER_CORRECT}_version"
CYCLER_CELL_MASSES = "cycler_cell_masses"
"""The cells of the files last previewed with their masses: the rows of the mass-per-cell table."""
CYCLER_CELL_MASSES_FILES = "cycler_cell_masses_files"
"""Each of those cells' cycling file, its SHA-256 by the cell's label: a cell's mass applies to that file only."""
CYCLER_CELL_MASSES_VERSION = f"{CYCLER_CELL_MASSES}_version"
CYCLER_PREVIEW_AGAIN = "cycler_preview_again"
"""Set when a preview found other cells than the form's mass table showed: the next run previews again."""
CYCLER_PLOTS = "cycler_plots"
"""The plots of the files last previewed or recorded: (uploaded name, FilePlots) pairs."""
CYCLER_CAMPAIGN = "cycler_campaign"
"""The campaign those cells and plots were read for: another campaign's Record page drops them."""
