"""Tables doe wrote, read back into ``record()``: what in them is doe's, not a measurement.

An exported history carries each experiment's mean over its cells (``<outcome>_n`` cells) and a
curve outcome's value predicted at its cycle (``<outcome>_pred_sd`` above 0); a run sheet
carries the model's predictions (``<outcome>_mean``/``_sd``); an export made after an outcome
was dropped from the configuration carries that outcome's stored values. These checks find such
values where recording them would store them as measurements, or lose an edit of them without a
word (:meth:`doe.Campaign.record`). An outcome one of whose derived columns a parameter's name
takes (a campaign stored before such names were refused) is left out of them: that column is
the parameter's (:func:`read_outcomes`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import pandas as pd

from doe.domain.batches import HISTORY_META, carried_columns
from doe.domain.config import DERIVED_SUFFIXES, CampaignConfig
from doe.domain.curves import CURVE_SUFFIXES, CYCLE_COLUMN, PRED_SD_SUFFIX
from doe.domain.display import format_number, significant_decimals
from doe.domain.exports import joined_notes
from doe.domain.ranking import RANKING_NOTE
from doe.domain.replicates import REPLICATE_COLUMN, n_column
from doe.domain.table import (
    EVIDENCE_COLUMN,
    EXPORT_ONLY_COLUMNS,
    ID_COLUMN,
    clean_label,
    parse_number,
)
from doe.domain.values import (
    is_blank,
    is_missing,
    is_real_number,
    same_measurement,
    same_text,
    same_value,
)
from doe.errors import CellProblem, ConfigError


def read_outcomes(config: CampaignConfig) -> list[str]:
    """The outcomes of ``config`` whose derived columns (``<outcome>_n``, ``_sd``, ``_mean``,
    ``_pred_sd``, ...) no parameter's name takes: the ones these checks read those columns for."""
    return [o for o in config.outcome_names if all(config.derived_column(o, s) is not None for s in DERIVED_SUFFIXES)]


def summary_outcomes(columns: Iterable[object], outcomes: Iterable[str]) -> frozenset[str]:
    """The outcomes whose values in a table with ``columns`` are the history's, not new cells:
    the table carries their ``<outcome>_n`` count or, for a curve outcome, its
    ``<outcome>_pred_sd`` (a history read back in); every outcome of an exported history (it
    carries ``ranking_note``), which has no ``_n`` columns while each experiment has one cell.
    A run sheet's ``<outcome>_sd`` (the prediction's) does not count."""
    names = {str(c) for c in columns}
    if RANKING_NOTE in names:
        return frozenset(outcomes)
    return frozenset(o for o in outcomes if n_column(o) in names or o + PRED_SD_SUFFIX in names)


def new_means(table: pd.DataFrame, known_ids: Collection[str], outcomes: Iterable[str]) -> list[CellProblem]:
    """The problems of a history read back into a campaign that lacks its experiments: a row
    whose ``<outcome>_n`` says its value is the mean of several cells would become one cell of
    a new experiment, and the model would trust it as one measurement, so the row is a problem
    naming that column (the cells file, ``doe export --cells``, carries each cell); so is a
    curve outcome's value whose ``<outcome>_pred_sd`` is above 0 (predicted at its cycle, not
    measured there). A table with repeated column names has none here: its validation refuses
    it whole."""
    if table.columns.has_duplicates:
        return []
    problems = []
    ids = table[ID_COLUMN].tolist() if ID_COLUMN in table.columns else [None] * len(table)
    known_ids = {clean_label(i) for i in known_ids}  # as a file's id is read (an imported 'P1 ' is 'P1')
    for outcome in summary_outcomes(table.columns, outcomes):
        count = n_column(outcome)
        if count not in table.columns or outcome not in table.columns:
            continue
        counts = pd.to_numeric(table[count], errors="coerce").tolist()  # a file's cells may be text
        for row, (exp_id, n, value) in enumerate(zip(ids, counts, table[outcome].tolist(), strict=True)):
            new = is_missing(exp_id) or clean_label(exp_id) not in known_ids
            if new and n > 1 and not is_missing(value):
                problems.append(CellProblem(row, count, n, f"{outcome} is the mean of {n:g} cells and {exp_id} is not in "
                                            "this campaign, so it would be recorded as one cell; record the cells "
                                            "file (doe export --cells) to keep each cell, or drop this column"))
    for outcome in outcomes:
        predicted = outcome + PRED_SD_SUFFIX
        if predicted not in table.columns or outcome not in table.columns:
            continue
        sds = pd.to_numeric(table[predicted], errors="coerce").tolist()
        for row, (exp_id, sd, value) in enumerate(zip(ids, sds, table[outcome].tolist(), strict=True)):
            new = is_missing(exp_id) or clean_label(exp_id) not in known_ids
            if new and sd > 0 and not is_missing(value):
                problems.append(CellProblem(row, predicted, sd, f"{outcome} of {exp_id} is predicted at its cycle (sd "
                                            f"{sd:g}), not measured, and {exp_id} is not in this campaign, so it would "
                                            "be recorded as a measurement; record the cells file (doe export --cells), "
                                            f"which carries each measured point, or empty this row's {outcome} (without "
                                            "this column the prediction would be recorded as measured)"))
    return problems


HISTORY_ONLY_COLUMNS = (RANKING_NOTE, "config_version", "source", "proposed_by", "proposed_at", "failure_note",
                        "failure_operator", "failure_sample_id", "failure_measured_at", EVIDENCE_COLUMN)
"""Columns only an exported history (:func:`doe.domain.exports.export_view`) writes: no run
sheet, cells file or results table of the lab's own carries them."""


def is_exported_history(columns: Iterable[object], config: CampaignConfig) -> bool:
    """Whether a table with ``columns`` is a history doe exported, trimmed or not: it carries one
    of :data:`HISTORY_ONLY_COLUMNS`, a curve outcome's ``_last_cycle``, ``_last_value`` or
    ``_pred_sd``, or both ``status`` and ``batch_id`` (a run sheet has no ``status``, a cells
    file no ``batch_id``); a column that is one of the campaign's parameters or outcomes (a
    parameter named ``evidence_files``) does not count."""
    names = {str(c) for c in columns} - set(config.parameter_names) - set(read_outcomes(config))
    curves = {o + suffix for o in read_outcomes(config) if o in config.curve_outcomes for suffix in CURVE_SUFFIXES}
    return bool(names & {*HISTORY_ONLY_COLUMNS, *curves}) or {"status", "batch_id"} <= names


def unmarked_curve_outcomes(columns: Iterable[object], config: CampaignConfig) -> frozenset[str]:
    """The curve outcomes of a table with ``columns`` that :func:`is_exported_history` whose
    ``<outcome>_pred_sd`` column it lacks (a trimmed spreadsheet): their values are the history's,
    measured or predicted at the cycle, which the table no longer tells apart."""
    names = {str(c) for c in columns}
    if not is_exported_history(names, config):
        return frozenset()
    return frozenset(o for o in read_outcomes(config) if o in config.curve_outcomes and o in names
                     and o + PRED_SD_SUFFIX not in names)


def unmarked_curve_values(table: pd.DataFrame, history: pd.DataFrame, config: CampaignConfig) -> list[CellProblem]:
    """Problems of an exported history's curve values that give no way to tell measured from predicted.

    A history shows a curve outcome's value at its cycle, predicted while the cells still cycle;
    only its ``<outcome>_pred_sd`` (above 0) says so. A history whose ``_pred_sd`` column was
    deleted (a trimmed spreadsheet) gave each such prediction, recorded back, as a point
    measured at the cycle. Of the :func:`unmarked_curve_outcomes`, a value in a row without a
    ``cycle`` or ``replicate`` label is therefore taken only where it equals the value its
    experiment has in ``history`` (read as the history's, it records nothing:
    :func:`doe.domain.planning.plan_record` with these outcomes among its ``summary``), and so
    is one where the history has none for its known experiment (no point yet, nothing predicted:
    a value typed in is measured at the cycle); any other, one of an experiment new to the
    campaign, or one beside a replicate label, is a problem naming the cell and its experiment. A table with repeated column names has none
    here: its validation refuses it whole."""
    outcomes = sorted(unmarked_curve_outcomes(table.columns, config))
    if table.columns.has_duplicates or not outcomes:
        return []
    ids = table[ID_COLUMN].tolist() if ID_COLUMN in table.columns else [None] * len(table)
    keys = _stored_rows(table, history) if ID_COLUMN in table.columns and not history.empty else [None] * len(table)

    def given(column: str) -> list[bool]:
        return [not is_blank(c) for c in table[column]] if column in table.columns else [False] * len(table)

    problems = []
    for outcome in outcomes:
        stored = dict(enumerate(pd.to_numeric(history[outcome], errors="coerce").tolist())) \
            if outcome in history.columns else {}
        for row, (exp_id, key, point, labelled, cell) in enumerate(zip(
                ids, keys, given(CYCLE_COLUMN), given(REPLICATE_COLUMN), table[outcome].tolist(), strict=True)):
            if point or is_blank(cell):
                continue  # a point with its cycle says where it was measured
            number = parse_number(cell) if isinstance(cell, str) else cell
            was = stored.get(key) if key is not None else None
            if not labelled and key is not None and (was is None or is_missing(was)):
                continue  # the export had no value here (no point yet) to predict: one typed in is measured
            if not labelled and was is not None and not is_missing(was) and number is not None \
                    and is_real_number(number) and not is_missing(number) and same_measurement(float(number), float(was)):
                continue  # the history's value as stored: plan_record reads it as such (unchanged)
            who = "the row" if is_missing(exp_id) else str(exp_id)
            kept = "" if was is None or is_missing(was) else f"; {format_number(was)} is stored for {who}"
            problems.append(CellProblem(row, outcome, cell, (
                f"{outcome} of {who} in this exported history has no {outcome}{PRED_SD_SUFFIX} column beside it, so "
                f"doe cannot tell a value measured at cycle {config.curve_outcomes[outcome]} from one predicted there "
                f"(the history's value while the cells still cycle){kept}; keep the {outcome}{PRED_SD_SUFFIX} column "
                "as exported, record measured points with a cycle column (doe export --cells carries each), or empty "
                "the cell")))
    return problems


def typed_over_predictions(table: pd.DataFrame, predictions: Mapping[Any, Any],
                           outcomes: Iterable[str]) -> list[CellProblem]:
    """Problems of a run sheet whose ``<outcome>_mean`` or ``_sd`` cells (the model's predictions, read
    back but never recorded) hold something other than what doe wrote while the outcome's own
    cell is empty: a measured value typed one column too far left, lost without a word.

    ``predictions``: experiment id -> its stored predictions (``Campaign.proposals()``). A cell
    within one unit of the last decimal the sheet shows, or 0.5 %, of the stored prediction (a
    sheet re-saved from a spreadsheet's display, or rounded by a script) is what doe wrote; an
    id doe proposed nothing for, or a row without an id, is not checked. ``<outcome>_sd`` is
    checked too, except in a history (whose ``_sd`` is the cells' spread)."""
    if table.columns.has_duplicates or ID_COLUMN not in table.columns:
        return []
    outcomes = list(outcomes)
    # a history's _sd is its cells' spread, not a prediction: a run sheet's columns only
    history = RANKING_NOTE in table.columns or any(n_column(o) in table.columns for o in outcomes)
    ids = [None if is_missing(i) else clean_label(i) for i in table[ID_COLUMN].tolist()]
    problems = []
    for outcome, column in [(o, f"{o}{suffix}") for o in outcomes for suffix in ("_mean", "_sd")]:
        if column not in table.columns or (history and column.endswith("_sd")):
            continue
        stored = [predictions.get(str(i), {}).get(column) if i is not None else None for i in ids]
        shown = significant_decimals(v for v in stored if v is not None)
        measured = table[outcome].tolist() if outcome in table.columns else [None] * len(table)
        for row, (exp_id, typed, was, value) in enumerate(zip(
                ids, pd.to_numeric(table[column], errors="coerce"), stored, measured, strict=True)):
            if exp_id is None or exp_id not in predictions or is_missing(typed) or not is_blank(value):
                continue  # with the outcome's own cell filled, the measured value is in its place
            if was is None or is_missing(was):
                said = f"doe stored no prediction of {outcome} for {exp_id}"
            elif abs(float(typed) - float(was)) <= max(10.0 ** -shown, 0.005 * abs(float(was))):
                continue  # as written, shown (a spreadsheet's display) or rounded by a script
            else:
                said = f"is not the prediction doe stored for {exp_id} ({format_number(was, shown)})"
            problems.append(CellProblem(row, column, typed, f"{said}: this column is the model's and is never recorded; "
                                        f"type measured values in the outcome columns (such as {outcome})"))
    return problems


def dropped_outcomes(measurements: pd.DataFrame, names: Iterable[str]) -> list[str]:
    """Outcomes with current values whose names are not among ``names`` (the current config's
    parameters and outcomes): dropped from the configuration since they were measured, in order
    of first value."""
    wanted = set(names)
    return [str(o) for o in dict.fromkeys(measurements["outcome"]) if o not in wanted]


def check_names_free(config: CampaignConfig, measurements: pd.DataFrame) -> None:
    """Refuse a configuration whose parameter takes the name of an outcome with current
    values (dropped since): the history would show the two under one column.

    Raises:
        ConfigError: naming each such parameter.
    """
    taken = sorted(set(config.parameter_names) & set(dropped_outcomes(measurements, config.outcome_names)))
    if taken:
        raise ConfigError(f"parameters: {', '.join(map(repr, taken))} is the name of an outcome with recorded values "
                          "in this campaign; give the parameter another name (the values stay in the history)")


def dropped_outcome_problems(table: pd.DataFrame, history: pd.DataFrame, measurements: pd.DataFrame,
                             names: Iterable[str]) -> tuple[tuple[str, ...], list[CellProblem]]:
    """The columns of ``table`` that hold an outcome dropped from the configuration
    (:func:`dropped_outcomes`; an export made after the drop carries them) and the problems of
    their cells. Such a column records nothing: a cell that repeats a stored value of its
    experiment (a cell's, or the history's mean) is as exported; any other value, or one for an
    experiment that has none, is refused, naming the column, rather than left out silently."""
    columns = tuple(c for c in dropped_outcomes(measurements, names) if c in table.columns)
    if not columns or table.columns.has_duplicates:
        return columns, []
    ids = ([None if is_missing(i) else clean_label(i) for i in table[ID_COLUMN].tolist()] if ID_COLUMN in table.columns
           else [None] * len(table))
    means = history.set_index(history[ID_COLUMN].astype(str))
    problems = []
    for column in columns:
        current = measurements[measurements["outcome"] == column]
        stored = current.groupby(current[ID_COLUMN].astype(str))["value"].apply(list).to_dict()
        numbers = pd.to_numeric(table[column], errors="coerce").tolist()
        mean = (pd.to_numeric(means[column], errors="coerce").to_dict() if column in means.columns else {})
        for row, (exp_id, typed, number) in enumerate(zip(ids, table[column].tolist(), numbers, strict=True)):
            if is_blank(typed):
                continue
            known = [*stored.get(str(exp_id), [])]
            if known:
                known.append(mean.get(str(exp_id)))
            if not any(same_measurement(number, float(v)) for v in known if not is_missing(v)):
                problems.append(CellProblem(row, column, typed, f"{column} is no longer an outcome of this campaign "
                                            "(dropped from its configuration); its stored values are kept, a new or "
                                            "changed one is not recorded: add the outcome back to record it, or "
                                            "clear the cell"))
    return columns, problems


def dropped_parameter_problems(table: pd.DataFrame, history: pd.DataFrame, config: CampaignConfig,
                               measurements: pd.DataFrame) -> tuple[tuple[str, ...], list[CellProblem]]:
    """The columns of ``table`` that hold a parameter dropped from the configuration (the
    history keeps its values, so a run sheet or export made before or after the drop carries
    it) and the problems of their cells. Such a column records nothing: a cell that repeats
    its experiment's stored value is as exported; any other value, or one for an experiment
    that has none, is refused naming the column, rather than left out silently."""
    current = {ID_COLUMN, *config.parameter_names, *config.outcome_names, *HISTORY_META, *EXPORT_ONLY_COLUMNS,
               *dropped_outcomes(measurements, config.outcome_names)}
    columns = tuple(c for c in map(str, table.columns) if c in history.columns and c not in current
                    and c not in carried_columns(table, config))
    if not columns or table.columns.has_duplicates or ID_COLUMN not in history.columns:
        return columns, []
    ids = ([None if is_missing(i) else clean_label(i) for i in table[ID_COLUMN].tolist()] if ID_COLUMN in table.columns
           else [None] * len(table))
    stored = history.set_index(history[ID_COLUMN].map(clean_label))
    problems = []
    for column in columns:
        kept = stored[column].to_dict()
        for row, (exp_id, typed) in enumerate(zip(ids, table[column].tolist(), strict=True)):
            if is_blank(typed):
                continue
            value = kept.get(exp_id)
            same = value is not None and not is_missing(value) and (
                same_text(str(typed).strip(), value) if isinstance(value, str)
                else same_measurement(pd.to_numeric(typed, errors="coerce"), float(value)))
            if not same:
                problems.append(CellProblem(row, column, typed, f"{column} is no longer a parameter of this campaign "
                                            "(dropped from its configuration); the stored values are kept, a new or "
                                            "changed one is not recorded: clear the cell, or add the parameter back"))
    return columns, problems


BATCH_COLUMN = "batch_id"
_PENDING = ("proposed", "running")


def rows_without_their_ids(table: pd.DataFrame, history: pd.DataFrame) -> list[CellProblem]:
    """Problems of rows that give no experiment id but name, in a ``batch_id`` column (a run
    sheet's or an export's: a lab's own table has none, and recording ignores it), a batch of
    the campaign with experiments still pending: a run sheet whose ``experiment_id`` column was
    deleted. Recorded, each row would be a new experiment, and the ones the lab made would stay
    pending."""
    if BATCH_COLUMN not in table.columns or table.columns.has_duplicates or not {BATCH_COLUMN, "status"} <= set(
            history.columns):
        return []
    pending: dict[str, list[str]] = {}
    for exp_id, batch, status in zip(history[ID_COLUMN], history[BATCH_COLUMN], history["status"], strict=True):
        if status in _PENDING and not is_missing(batch):
            pending.setdefault(clean_label(batch), []).append(str(exp_id))
    ids = table[ID_COLUMN].tolist() if ID_COLUMN in table.columns else [None] * len(table)
    problems = []
    for row, (exp_id, batch) in enumerate(zip(ids, table[BATCH_COLUMN].tolist(), strict=True)):
        if not is_blank(exp_id) or is_blank(batch) or (waiting := pending.get(clean_label(batch))) is None:
            continue
        problems.append(CellProblem(row, ID_COLUMN, None, f"the row names batch {clean_label(batch)} of this campaign, "
                                    f"whose {', '.join(waiting)} {'is' if len(waiting) == 1 else 'are'} still pending, "
                                    "but gives no experiment_id: recorded, it would be a new experiment and the one made "
                                    "would stay pending; give the row its experiment_id from the run sheet (to record "
                                    "a new experiment, delete the batch_id)"))
    return problems


def problems_of(table: pd.DataFrame, config: CampaignConfig, history: pd.DataFrame, measurements: pd.DataFrame,
                predictions: Mapping[Any, Any]) -> tuple[tuple[str, ...], list[CellProblem]]:
    """Every check here of ``table`` recorded into a campaign with ``config``, its ``history``,
    ``measurements`` and stored ``predictions`` (experiment id -> predictions): the columns of
    outcomes and parameters dropped from the configuration (recorded as nothing) and the problems."""
    dropped, problems = dropped_outcome_problems(table, history, measurements,
                                                 [*config.parameter_names, *config.outcome_names])
    parameters, more = dropped_parameter_problems(table, history, config, measurements)
    dropped, problems = (*dropped, *parameters), problems + more
    problems += new_means(table, set(history[ID_COLUMN].astype(str)), read_outcomes(config))
    problems += typed_over_predictions(table, predictions, read_outcomes(config))
    problems += unmarked_curve_values(table, history, config)
    problems += rows_without_their_ids(table, history)
    problems += edited_history_notes(table, history, measurements)
    return dropped, problems


def edited_history_notes(table: pd.DataFrame, history: pd.DataFrame, measurements: pd.DataFrame) -> list[CellProblem]:
    """The ``note`` cells of an exported history (it carries ``ranking_note``) that no longer say
    what the export wrote for their known experiment: that note joins the experiment's cell notes
    (:func:`doe.domain.exports.joined_notes`) and records nothing (:func:`stored_recipes_left_out`),
    so an edit there would be dropped without a word; it is refused, naming where a note is changed.
    An emptied cell records nothing, as a deleted column does."""
    if RANKING_NOTE not in table.columns or "note" not in table.columns or history.empty or \
            table.columns.has_duplicates or ID_COLUMN not in table.columns:
        return []
    exported = joined_notes(history, measurements)
    stored_ids = history[ID_COLUMN].tolist()
    problems = []
    for row, (key, typed) in enumerate(zip(_stored_rows(table, history), table["note"].tolist(), strict=True)):
        if key is None or is_blank(typed):
            continue
        kept = exported.get(str(stored_ids[key]), "")
        if not same_text(_lines(typed), _lines(kept)):
            problems.append(CellProblem(row, "note", typed, (
                f"joins {stored_ids[key]}'s notes in the history ({kept!r} exported) and records nothing; change a "
                "note in the cells file (doe export --cells) or the Record page, recorded with correct=True")))
    return problems


def _lines(text: object) -> str:
    """A note as compared with the one exported: without surrounding blanks, line ends as ``\\n``."""
    return str(text).replace("\r\n", "\n").replace("\r", "\n").strip()


def stored_recipes_left_out(table: pd.DataFrame, history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """``table`` with every parameter cell that repeats the stored value of its row's experiment
    left empty. A row of a known experiment only records what it adds, so its recipe as stored
    is not checked again against today's config: an exported history records back unchanged
    after a label was dropped or a range narrowed (the recipe is valid under the config version
    it was made with). A cell that differs from the stored value is kept, and refused as before.
    An exported history's ``note`` of a known experiment is left empty too: it joins the notes of
    the experiment's cells, so it may be longer than one note may be, and it records nothing."""
    if ID_COLUMN not in table.columns or history.empty or table.columns.has_duplicates:
        return table
    keys = _stored_rows(table, history)
    out = table.copy()
    for column in [p.name for p in config.parameters if p.name in table.columns and p.name in history.columns]:
        kept_of = dict(enumerate(history[column].tolist()))
        categorical = config.parameter(column).type == "categorical"
        cells = out[column].astype(object).tolist()
        for row, (key, cell) in enumerate(zip(keys, cells, strict=True)):
            kept = kept_of.get(key) if key is not None else None
            if kept is None or is_missing(kept) or is_missing(cell):
                continue
            if categorical:
                same = clean_label(cell) == clean_label(kept)
            else:
                number = parse_number(cell) if isinstance(cell, str) else cell
                same = is_real_number(number) and not is_missing(number) and same_value(number, kept)
            if same:
                cells[row] = None
        out[column] = pd.Series(cells, index=out.index, dtype=object)
    if "status" in out.columns and "failure_reason" in out.columns and "status" in history.columns:
        # an exported experiment measured, then failed: its failure as stored is no new failure beside
        # its values (which validation refuses); plan_record keeps it failed. One failed without a
        # value is not: a value typed into its row is still refused. An abandoned one's reason is
        # no failure either: a value typed into its row is refused as abandoned.
        for row, (key, status, reason) in enumerate(zip(keys, out["status"], out["failure_reason"], strict=True)):
            if key is None or status not in ("failed", "abandoned") or is_missing(reason) or \
                    history["status"].iloc[key] != status:
                continue
            measured = status == "abandoned" or any(o in history.columns and not is_missing(history[o].iloc[key])
                                                    for o in config.outcome_names)
            if measured and clean_label(reason) == clean_label(history["failure_reason"].iloc[key] or ""):
                for column in ("failure_reason", "failed"):
                    if column in out.columns:
                        out[column] = out[column].astype(object)
                        out.at[out.index[row], column] = None
    if RANKING_NOTE in out.columns and "note" in out.columns:  # an exported history: a known experiment's note
        out["note"] = out["note"].astype(object)  # joins its cells' (export_view), unread by plan_record, unchecked
        out.loc[[key is not None for key in keys], "note"] = None
    return out


def _stored_rows(table: pd.DataFrame, history: pd.DataFrame) -> list[int | None]:
    """For each row of ``table``, the position in ``history`` of its experiment as
    :func:`doe.domain.planning.plan_record` finds it (the id as written, else its one stored
    spelling), or None."""
    stored_ids = [str(i) for i in history[ID_COLUMN].tolist()]
    spellings: dict[str, list[int]] = {}
    for k, stored_id in enumerate(stored_ids):
        spellings.setdefault(clean_label(stored_id), []).append(k)
    position = {stored_id: k for k, stored_id in enumerate(stored_ids)}

    def stored_row(exp_id: Any) -> int | None:
        if is_missing(exp_id):
            return None
        if str(exp_id) in position:
            return position[str(exp_id)]
        found = spellings.get(clean_label(exp_id), [])
        return found[0] if len(found) == 1 else None

    return [stored_row(i) for i in table[ID_COLUMN].tolist()]


def earlier_predictions_left_out(table: pd.DataFrame, history: pd.DataFrame, config: CampaignConfig) -> pd.DataFrame:
    """``table`` with each curve outcome's value that an exported history gives as predicted
    (its row's ``<outcome>_pred_sd`` above 0) left empty where the campaign's prediction has
    moved since (the stored ``<outcome>_pred_sd`` is another, or 0 once measured at the cycle).
    Every new point refits the fade law, whose priors every cell shares, so each still-cycling
    experiment's prediction moves: read as a value, a history exported before it was refused
    whole. A prediction is never recorded; one typed over while the row's ``_pred_sd`` is still
    the stored one is left as it is (and refused by :func:`doe.domain.planning.plan_record`)."""
    if ID_COLUMN not in table.columns or history.empty or table.columns.has_duplicates:
        return table
    outcomes = [o for o in read_outcomes(config) if o in config.curve_outcomes and o in table.columns
                and o + PRED_SD_SUFFIX in table.columns and o + PRED_SD_SUFFIX in history.columns]
    if not outcomes:
        return table
    keys = _stored_rows(table, history)
    out = table.copy()
    for outcome in outcomes:
        given = pd.to_numeric(out[outcome + PRED_SD_SUFFIX], errors="coerce").tolist()
        stored = pd.to_numeric(history[outcome + PRED_SD_SUFFIX], errors="coerce").tolist()
        cells = out[outcome].astype(object).tolist()
        for row, (key, sd) in enumerate(zip(keys, given, strict=True)):
            if key is None or is_missing(sd) or not sd > 0 or is_missing(stored[key]):
                continue
            if not same_measurement(float(sd), float(stored[key])):
                cells[row] = None
        out[outcome] = pd.Series(cells, index=out.index, dtype=object)
    return out


__all__ = ["BATCH_COLUMN", "check_names_free", "dropped_outcome_problems", "dropped_outcomes", "dropped_parameter_problems", "earlier_predictions_left_out", "edited_history_notes", "is_exported_history", "new_means", "problems_of", "read_outcomes", "rows_without_their_ids", "stored_recipes_left_out", "summary_outcomes",
           "typed_over_predictions", "unmarked_curve_outcomes", "unmarked_curve_values"]
