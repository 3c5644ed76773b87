"""Cycler files to campaign results: the rows :meth:`doe.campaign.Campaign.record` takes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from doe.domain.active_mass import rule_mass
from doe.domain.objectives import valid_range_text
from doe.domain.records import (
    MAX_REPLICATE,
    EvidenceFile,
    NewExperiment,
    NewMeasurement,
    RecordReport,
    experiment_id_of,
)
from doe.domain.table import clean_label, replicate_key, replicate_label
from doe.domain.values import is_plain_label, label_key, same_measurement
from doe.instruments.cell_masses import ActiveMasses, masses_of_files
from doe.instruments.cycling import (
    BINARY_FORMATS,
    InstrumentFileError,
    check_size,
    cycling_outcomes,
    detect_format,
    read_cycling,
    read_text,
    retention_curve,
)
from doe.instruments.impedance import DEFAULT_CIRCUIT, detect_impedance_format, impedance_outcomes
from doe.instruments.same_cell import (
    cycle_capacities,
    possible_exports,
    same_cycles,
    stored_capacities,
)
from doe.version import __version__

FileKindChoice = Literal["auto", "cycling", "impedance"]
ValidRangeOf = Callable[[str], tuple[float | None, float | None] | None]
"""An outcome's valid range by its name (:meth:`doe.domain.config.CampaignConfig.valid_range_of`)."""
INDUCTIVE = "inductive_points_dropped"
"""How many high-frequency points of an inductive tail an impedance fit left out (:mod:`doe.instruments.impedance`)."""

_LIBRARY = {"biologic_mpr": "datalab-org-galvani", "neware_nda": "NewareNDA"}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def parser_name(file_format: str) -> str:
    """The reader of ``file_format`` with its version, as stored with an evidence file."""
    name = f"doe {__version__} doe.instruments ({file_format})"
    if file_format in _LIBRARY:
        name += f" + {_LIBRARY[file_format]} {_version(_LIBRARY[file_format])}"
    elif file_format in ("biologic_peis_mpt", "gamry_dta", "impedance_csv"):
        name += f" + impedance.py {_version('impedance')}"
    return name


@dataclass(frozen=True)
class FilePreview:
    """What a set of cycler files says about one experiment, before anything is recorded.

    Attributes:
        table: the rows to record: ``experiment_id``, ``replicate`` (one cell per file: its
            label, by default the file's name without its suffix) and every outcome the
            campaign has.
        read: one row per file: ``file``, ``format`` and every value computed from it.
        skipped: computed values the campaign has no outcome for, or that no file reaches
            (a retention at a cycle the cells have not reached yet): not recorded.
        files: the raw files as evidence (one per row of ``read``, in order): content,
            SHA-256, parser and the rule's inputs; stored with the measurements they give.
        recorded: what recording the table did (``Campaign.record_files(confirm=True)``),
            else None.
        capacities: per file, a cycling file's charge and discharge capacity (mAh) per cycle
            (:func:`doe.instruments.same_cell.cycle_capacities`), None for a spectrum: what
            tells a later export of a cell from another cell.
        out_of_range: each value outside its outcome's valid_range, in words naming its file
            (and cycle): shown with the preview, refused when recorded (:meth:`refuse_out_of_range`).
    """

    table: pd.DataFrame
    read: pd.DataFrame
    skipped: tuple[str, ...]
    files: tuple[EvidenceFile, ...] = ()
    recorded: RecordReport | None = None
    capacities: tuple[np.ndarray | None, ...] = ()
    out_of_range: tuple[str, ...] = ()

    def refuse_out_of_range(self) -> None:
        """Raise :class:`InstrumentFileError` naming each file with a value outside its outcome's
        valid_range (:attr:`out_of_range`), before anything is recorded."""
        if self.out_of_range:
            raise InstrumentFileError("; ".join(self.out_of_range) + ": nothing was recorded; check the file and the "
                                      "cell's active mass (a slipped decimal point?)")

    @property
    def masses(self) -> tuple[float | None, ...]:
        """Each file's active cathode mass (mg) as its capacities were computed with, None for a
        spectrum: the mass of its cell."""
        return tuple(rule_mass(f.rule) if f.kind == "cycling" else None for f in self.files)

    @property
    def cells(self) -> int:
        """The cells the files are of (a cell's cycling file and its spectrum: one cell)."""
        return int(self.table["replicate"].iloc[:len(self.read)].nunique()) if "replicate" in self.table else 1

    def recorded_text(self) -> str:
        """What recording the files did, in words: the cells and files, or that nothing was new."""
        experiment = str(self.table["experiment_id"].iloc[0]) if len(self.table) else "the experiment"
        if self.recorded is None:
            return "preview only: nothing was recorded"
        done = self.recorded
        if not done.measurements_added + done.measurements_corrected:
            return f"nothing new: the values of these files were recorded for {experiment} already"
        points = " (curve points included)" if self.points_text() else ""
        return (f"recorded {self.cells} cell(s) of {experiment} from {len(self.read)} file(s): "
                f"{done.measurements_added} value(s) added, {done.measurements_corrected} corrected, "
                f"{done.measurements_unchanged} unchanged{points}")

    def points_text(self) -> str | None:
        """The curve points the files give, in words (their outcome, count and cycles), or None:
        they are recorded with the cells, beside the one value per file that :attr:`read` shows."""
        if "cycle" not in self.table.columns or self.table["cycle"].isna().all():
            return None
        points = self.table[self.table["cycle"].notna()]
        outcomes = [c for c in points.columns if c not in ("experiment_id", "replicate", "cycle")
                    and points[c].notna().any()]
        cycles = points["cycle"].astype(int)
        return (f"{len(points)} curve point(s) of {', '.join(outcomes)} (cycles {cycles.min()}-{cycles.max()}), "
                "which go with the cells' values")

    def link(self, measurements: Sequence[NewMeasurement],
             new_experiments: Sequence[NewExperiment]) -> list[NewMeasurement]:
        """``measurements`` (planned from :attr:`table`, creating ``new_experiments``) each
        linked to the file it came from."""
        replicates = (self.table["replicate"].astype(str).tolist() if "replicate" in self.table.columns
                      else [""] * len(self.table))
        # the table's first rows are one per file (curve points follow them), keyed as record() stores ids
        # and labels (composed Unicode: a macOS file name is not), and by outcome: a cell's cycling file
        # and its spectrum give it different outcomes
        source: dict[tuple[str, str, str], str] = {}
        outcomes = [c for c in self.table.columns if c not in ("experiment_id", "replicate", "cycle")]
        for k, f in enumerate(self.files):
            cell = (clean_label(str(self.table["experiment_id"].iloc[k])),
                    replicate_label(replicates[k]) if replicates[k] else "")
            for outcome in outcomes:
                if pd.notna(self.table[outcome].iloc[k]) or (outcome == RETENTION and f.kind == "cycling"):
                    source[(*cell, outcome)] = f.sha256
        return [replace(m, file_sha256=source.get((str(experiment_id_of(m, new_experiments)), m.replicate or "",
                                                   m.outcome))) for m in measurements]


def _kind_of(path: Path, kind: FileKindChoice) -> tuple[Literal["cycling", "impedance"], str]:
    """The file's kind and format; ``kind`` other than "auto" must agree with the content."""
    if kind not in ("auto", "cycling", "impedance"):
        raise InstrumentFileError(f"kind must be 'auto', 'cycling' or 'impedance', got {kind!r}")
    check_size(path)
    cycling_format = detect_format(path) if path.suffix.lower() in (".mpr", ".nda", ".ndax") else None
    eis = None if cycling_format in BINARY_FORMATS else detect_impedance_format(path, read_text(path))
    if eis is not None:
        if kind == "cycling":
            raise InstrumentFileError(f"{path.name}: kind 'cycling' given, but the file is an impedance spectrum "
                                      f"({eis})")
        return "impedance", eis
    if kind == "impedance":
        raise InstrumentFileError(f"{path.name}: kind 'impedance' given, but the file is not an impedance export "
                                  "doe reads (BioLogic PEIS .mpt text, Gamry .DTA or a frequency_hz/z_real_ohm/"
                                  "z_imag_ohm CSV)")
    return "cycling", cycling_format or detect_format(path)


def results_from_files(paths: str | Path | Iterable[str | Path], *, experiment_id: str, active_mass_mg: ActiveMasses,
                       outcome_names: Iterable[str], reference_cycle: int = 1,
                       kind: FileKindChoice = "auto", circuit: str | None = None,
                       resistances: Mapping[str, str] | None = None,
                       curve_outcomes: Mapping[str, int] | None = None,
                       replicates: Sequence[str] | None = None, valid_range: ValidRangeOf | None = None
                       ) -> FilePreview:
    """Compute the outcomes of each file (a cycling export: :func:`doe.instruments.cycling_outcomes`;
    an impedance spectrum: :func:`doe.instruments.impedance_outcomes`) and lay them out as
    results of ``experiment_id``, one replicate cell per file, with each file as evidence.
    ``paths``: the files (one path alone: one file). ``valid_range``: each outcome's valid
    range by name; a value outside it is named with its file in :attr:`FilePreview.out_of_range`.

    ``active_mass_mg`` is needed for cycling files only: one number (mg) for every cell, or a
    mapping from each cell's label to its mass (a cell's files share its mass); ``kind`` ("auto", "cycling" or
    "impedance") says what the files are (auto: detected from the content). A spectrum is
    fitted to ``circuit`` and reports ``resistances`` (a campaign config's ``impedance``
    section; default: :data:`doe.instruments.impedance.DEFAULT_CIRCUIT` and its resistances).
    When ``capacity_retention_pct`` is a curve outcome (``curve_outcomes``: outcome -> ``at``,
    a config's ``over: cycle``), each cycling file also gives its retention at every cycle as
    curve points (rows with a ``cycle``, after the one row per file).

    Each file is one cell, labelled ``replicates[k]`` (default: the file's name without its
    suffix), one file alone too: cells of one experiment often finish cycling on different
    days, and each file recorded alone is still its own cell. A cell's cycling file and its
    impedance spectrum may share a label (one file of each kind per label): each gives the
    cell its own outcomes, each linked to its file.

    Raises:
        InstrumentFileError: a label too long, empty, not printable or naming two files of
            one kind (``a`` and ``A`` are one label), before any file is parsed; a mapping of
            masses without a cell of a cycling file, or with a label that names no cell; two files with
            the same bytes, or two exports of one cell (the same first cycles' capacities).
    """
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]  # 'A.csv' is one file
    if not files:
        raise ValueError("paths: give at least one cycler file")
    kinds = [_kind_of(path, kind) for path in files]
    labels = _cell_labels(files, replicates, [k for k, _ in kinds])
    masses = masses_of_files(active_mass_mg, files, labels, [k for k, _ in kinds])
    names = list(outcome_names)
    read = []
    evidence = []
    capacities: list[np.ndarray | None] = []
    for path, (file_kind, file_format), mass in zip(files, kinds, masses, strict=True):
        capacities.append(None)
        if file_kind == "impedance":
            values = impedance_outcomes(path, circuit=circuit, resistances=resistances)
            rule: dict[str, object] = {"circuit": circuit or DEFAULT_CIRCUIT}
            if resistances is not None:
                rule["resistances"] = dict(resistances)
            if INDUCTIVE in values:  # left out of the fit: part of how the values were computed
                rule[INDUCTIVE] = int(values[INDUCTIVE])
        else:
            if mass is None:
                raise InstrumentFileError(f"active_mass_mg (active cathode mass): {path.name} is a cycling file; "
                                          "give the mass of each cell in mg (more than 0)")
            values = cycling_outcomes(path, active_mass_mg=mass, reference_cycle=reference_cycle)
            capacities[-1] = cycle_capacities(path)
            rule = {"active_mass_mg": float(mass), "reference_cycle": int(reference_cycle)}
        read.append({"file": path.name, "format": file_format, **values.to_dict()})
        evidence.append(EvidenceFile.from_bytes(path.name, path.read_bytes(), kind=file_kind, file_format=file_format,
                                                parser=parser_name(file_format), rule=rule))
    _no_file_twice(evidence)
    _no_cell_twice(evidence, capacities)
    read_table = pd.DataFrame(read)
    computed = [c for c in read_table.columns
                if c not in ("file", "format", "last_cycle", "retention_at_last_cycle_pct", "fit_relative_residual",
                             INDUCTIVE)]
    kept = [c for c in computed if c in names and read_table[c].notna().any()]
    table = read_table[kept].copy()
    table.insert(0, "experiment_id", str(experiment_id))
    table.insert(1, "replicate", labels)
    skipped = [c for c in computed if c not in kept]
    if RETENTION in (curve_outcomes or {}) and RETENTION in names:
        points = _retention_points(files, evidence, table, reference_cycle)
        if len(points):  # the curve carries the retention, its value at ``at`` included
            table = pd.concat([table.drop(columns=[RETENTION], errors="ignore"), points], ignore_index=True)
            skipped = [c for c in skipped if c != RETENTION]
    file_of = {label: path.name for label, path, (file_kind, _) in zip(labels, files, kinds, strict=True)
               if file_kind == "cycling"}  # a curve point's file
    where = [p.name for p in files] + [f"{file_of.get(str(r), r)}, cycle {int(c)}"
                                       for r, c in zip(table["replicate"].iloc[len(files):],
                                                       table.get("cycle", pd.Series(dtype=float)).iloc[len(files):],
                                                       strict=True)]
    return FilePreview(table=table, read=read_table, skipped=tuple(skipped), files=tuple(evidence),
                       capacities=tuple(capacities), out_of_range=_out_of_range(table, where, valid_range))


def _out_of_range(table: pd.DataFrame, where: Sequence[str], valid_range: ValidRangeOf | None) -> tuple[str, ...]:
    """Each value of ``table`` outside its outcome's valid range, in words, at ``where`` (per row:
    its file, and a curve point's cycle)."""
    found = []
    for name in (c for c in table.columns if c not in ("experiment_id", "replicate", "cycle")):
        valid = valid_range(name) if valid_range is not None else None
        if valid is None:
            continue
        low, high = valid
        for at, value in zip(where, table[name].to_numpy(dtype=float), strict=True):
            if not math.isnan(value) and ((low is not None and value < low) or (high is not None and value > high)):
                found.append(f"{at}: {name} {value:.6g} is outside its valid_range ({valid_range_text(valid)})")
    return tuple(found)


RETENTION = "capacity_retention_pct"


def _no_file_twice(evidence: Sequence[EvidenceFile]) -> None:
    """Two files of one call with the same bytes: one cell's file given twice (two cells never
    write byte-identical files); they made two cells of one, n 2 and sd 0."""
    first: dict[str, str] = {}
    twins = [f"{e.file_name} holds the same bytes as {first[e.sha256]}" for e in evidence
             if first.setdefault(e.sha256, e.file_name) != e.file_name]
    if twins:
        raise InstrumentFileError("; ".join(twins) + ": one cell's file given twice (two cells never write "
                                  "identical files); give each cell's own file once")


def _no_cell_twice(evidence: Sequence[EvidenceFile], capacities: Sequence[np.ndarray | None]) -> None:
    """Two cycling files of one call that are exports of one cell (their first cycles' capacities
    the same: :func:`doe.instruments.same_cell.same_cycles`): they made two cells of one, as a
    later export recorded in a call of its own does not (:func:`check_files_are_new_cells`)."""
    twins = [f"{evidence[j].file_name} and {evidence[i].file_name} have the same charge and discharge capacities in "
             f"cycles 1-{n}" for j in range(len(evidence)) for i in range(j)
             if (a := capacities[i]) is not None and (b := capacities[j]) is not None and (n := same_cycles(a, b))]
    if twins:
        raise InstrumentFileError("; ".join(twins) + ": two exports of one cell (a cycler names each export anew)? "
                                  "Give the cell's latest export alone; two cells do not measure the same values")


def check_files_are_new_cells(preview: FilePreview, measurements: pd.DataFrame, experiment_ids: Iterable[str],
                              file_content: Callable[[str], tuple[str, bytes]], files: pd.DataFrame) -> None:
    """Refuse files for an experiment the campaign does not have (``experiment_ids``: its ids),
    a file whose bytes are stored already as another cell's evidence (a copy of ``A.csv``
    named ``B.csv``): it would be a second cell with the first one's values; a file of a
    cell new to its experiment that is a later export of a stored cell (:func:`_repeated_cells`);
    and a cycling file that is a later export of a cell stored under another experiment
    (:func:`_cells_of_other_experiments`): one cell's data would count for two experiments.

    ``measurements``: the campaign's (:meth:`doe.Campaign.measurements`); the same file for
    the same cell again is fine (it changes nothing). ``file_content``: a stored file's name
    and bytes by SHA-256 (:meth:`doe.Campaign.file_content`); ``files``: the stored files
    (:meth:`doe.Campaign.files`)."""
    experiment = str(preview.table["experiment_id"].iloc[0]) if len(preview.table) else None
    if experiment is not None and clean_label(experiment) not in {clean_label(i) for i in experiment_ids}:
        raise InstrumentFileError(f"no experiment {experiment!r} in the campaign: instrument files add cells to an "
                                  "experiment proposed or recorded before (check the id; a new recipe is recorded "
                                  "with its parameters first)")
    if not len(measurements) or "file_sha256" not in measurements.columns:
        return
    stored = measurements.dropna(subset=["file_sha256"])
    owner = {str(sha): (clean_label(e), str(r)) for sha, e, r in
             zip(stored["file_sha256"], stored["experiment_id"], stored["replicate"].fillna(""), strict=True)}
    twins = []
    for k, evidence in enumerate(preview.files):  # ids as record() matches them ('E0001 ' is E0001)
        cell = (clean_label(preview.table["experiment_id"].iloc[k]), str(preview.table["replicate"].iloc[k]))
        if (was := owner.get(evidence.sha256)) is not None and was != cell:
            twins.append(f"{evidence.file_name} (cell {cell[1]!r} of {cell[0]}) holds the same bytes as the file "
                         f"recorded for cell {was[1]!r} of {was[0]}")
    if twins:
        raise InstrumentFileError("; ".join(twins) + ": a cell's file given again under another label? Record it "
                                  "under its own cell's label, or give the other cell's own file")
    masses = cycling_masses(files, set(stored["file_sha256"].astype(str)))
    repeats = [f"{evidence.file_name} (cell {cell!r} of {experiment_id}) gives the same values as cell {was!r} "
               f"({', '.join(shared)})"
               for evidence, experiment_id, cell, was, shared in _repeated_cells(preview, stored, masses, file_content)]
    if repeats:
        raise InstrumentFileError("; ".join(repeats) + ": a later export of that cell (a cycler names each export "
                                  "anew)? Record it under that cell's label (replicates=[...] in Python, --replicate "
                                  "in the doe command, 'Cell labels' on the Record page); two cells do not measure "
                                  "the same values")
    if elsewhere := _cells_of_other_experiments(preview, stored, masses, file_content):
        raise InstrumentFileError("; ".join(elsewhere) + ": a later export of that cell (a cycler names each export "
                                  "anew)? A cell is one experiment's: record it under that experiment and cell "
                                  "label, or give this experiment's own cell's file; two cells do not measure the "
                                  "same values")


def _cells_of_other_experiments(preview: FilePreview, stored: pd.DataFrame, masses: Mapping[str, float | None],
                                file_content: Callable[[str], tuple[str, bytes]]) -> list[str]:
    """Cycling files whose first cycles' capacities are those of a file stored for a cell of
    another experiment (:func:`doe.instruments.same_cell.same_cycles`), in words naming both
    cells. Only the stored files whose recorded first-cycle values agree are read
    (:func:`doe.instruments.same_cell.possible_exports`; ``masses``: :func:`cycling_masses`), so a
    campaign's many files cost little."""
    cell_of = {str(sha): (clean_label(e), str(r)) for sha, e, r in
               zip(stored["file_sha256"], stored["experiment_id"], stored["replicate"].fillna(""), strict=True)}
    found = []
    for k, evidence in enumerate(preview.files):
        own = preview.capacities[k] if k < len(preview.capacities) else None
        if own is None:
            continue
        experiment_id, label = clean_label(preview.table["experiment_id"].iloc[k]), str(preview.table["replicate"].iloc[k])
        others = {sha: mass for sha, mass in masses.items() if cell_of[sha][0] != experiment_id}
        for sha in possible_exports(own, stored, others):
            theirs = stored_capacities(*file_content(sha))
            if theirs is not None and (n := same_cycles(own, theirs)):
                other, cell = cell_of[sha]
                found.append(f"{evidence.file_name} (cell {label!r} of {experiment_id}) has the charge and discharge "
                             f"capacities of cycles 1-{n} of the file recorded for "
                             + (f"cell {cell!r} of {other}" if cell else other))
                break
    return found


def cycling_masses(files: pd.DataFrame, linked: set[str]) -> dict[str, float | None]:
    """The stored cycling files (:meth:`doe.Campaign.files`) whose SHA-256 is in ``linked`` (a
    current value came from them), each with its active mass (mg) from its rule's inputs, None
    where the rule has none."""
    if not len(files):
        return {}
    cycling = files[files["kind"].eq("cycling") & files["sha256"].astype(str).isin(linked)]
    masses: dict[str, float | None] = {}
    for sha, rule in zip(cycling["sha256"], cycling["rule"], strict=True):
        masses[str(sha)] = rule_mass(rule)
    return masses


def _repeated_cells(preview: FilePreview, stored: pd.DataFrame, masses: Mapping[str, float | None],
                    file_content: Callable[[str], tuple[str, bytes]]
                    ) -> list[tuple[EvidenceFile, str, str, str, list[str]]]:
    """Files of a cell new to its experiment that repeat a stored file cell: every first-cycle
    value the two share, and every curve point at the cycles both have (at least three), equal;
    or the file's first cycles' capacities those of one of the cell's stored files
    (:func:`doe.instruments.same_cell.same_cycles`; a campaign without a curve outcome stores no
    curve points), of the stored files :func:`doe.instruments.same_cell.possible_exports` keeps
    (``masses``: :func:`cycling_masses`). Each: the file, its experiment, its label, the stored cell's, what is shared."""
    found = []
    table = preview.table
    parsed: dict[str, np.ndarray | None] = {}

    def capacities_of(sha256: str) -> np.ndarray | None:
        if sha256 not in parsed:
            parsed[sha256] = stored_capacities(*file_content(sha256))
        return parsed[sha256]

    outcomes = [c for c in table.columns if c not in ("experiment_id", "replicate", "cycle")]
    for k, evidence in enumerate(preview.files):
        experiment_id, label = clean_label(table["experiment_id"].iloc[k]), str(table["replicate"].iloc[k])
        rows = table[(table["experiment_id"].map(clean_label) == experiment_id) & (table["replicate"].astype(str) == label)]
        mine = {(o, None if pd.isna(r.get("cycle")) else int(r["cycle"])): float(r[o])
                for r in rows.to_dict("records") for o in outcomes if not pd.isna(r[o])}
        theirs = stored[stored["experiment_id"].map(clean_label) == experiment_id]
        keys = theirs["replicate"].fillna("").astype(str).map(lambda x: replicate_key(replicate_label(x)) if x else "")
        if (keys == replicate_key(replicate_label(label))).any():
            continue  # the cell itself (a label stored as '1.0' is '1'), given again: compared when recorded
        own = preview.capacities[k] if k < len(preview.capacities) else None
        own_files = set(theirs["file_sha256"].dropna().astype(str))
        readable = set() if own is None else set(possible_exports(
            own, stored, {sha: mass for sha, mass in masses.items() if sha in own_files}))
        for other, cell in theirs.groupby(theirs["replicate"].fillna("").astype(str)):
            values = {(o, None if pd.isna(c) else int(c)): float(v)
                      for o, c, v in zip(cell["outcome"], cell["cycle"], cell["value"], strict=True)}
            common = [key for key in mine if key in values]
            scalars = [o for o, c in common if c is None]
            points = [c for _, c in common if c is not None]
            if scalars and len(points) >= 3 and all(same_measurement(mine[key], values[key]) for key in common):
                shared = [*scalars, f"cycles {min(points)}-{max(points)}"]
                found.append((evidence, experiment_id, label, other, shared))
                break
            cycles = [same_cycles(own, other_file) for sha in cell["file_sha256"].dropna().astype(str).unique()
                      if own is not None and sha in readable and (other_file := capacities_of(sha)) is not None]
            if any(cycles):
                found.append((evidence, experiment_id, label, other,
                              [f"the charge and discharge capacities of cycles 1-{max(cycles)}"]))
                break
    return found


def _cell_labels(files: list[Path], replicates: Sequence[str] | None, kinds: Sequence[str]) -> list[str]:
    """Each file's cell label, as :meth:`doe.campaign.Campaign.record` stores it: one file of
    each kind (``kinds``) per label, so a cell's cycling file and its spectrum may share one."""
    given = replicates is not None
    if replicates is None:
        replicates = [p.stem for p in files]
    elif isinstance(replicates, str) or len(replicates) != len(files):
        raise InstrumentFileError(f"replicates: give one cell label per file ({len(files)} file(s)), "
                                  f"got {replicates!r}")
    fix = ("give the labels" if given else
           "give each file's cell a label (replicates=[...] in Python, --replicate per file in the doe command, "
           "'Cell labels' on the Record page)")
    labels: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    spelt: dict[str, str] = {}
    problems = []
    for k, (path, raw) in enumerate(zip(files, replicates, strict=True)):
        label = replicate_label(raw) if isinstance(raw, str) else ""
        if not label or len(label) > MAX_REPLICATE or not is_plain_label(label):
            problems.append(f"{path.name}: cell label {raw!r} is not 1 to {MAX_REPLICATE} printable characters")
        elif (other := seen.setdefault((label_key(label), kinds[k]), k)) != k:
            problems.append(f"{path.name}: cell label {label!r} is also the label of file {other + 1} "
                            f"({files[other].name}), another {kinds[k]} file")
        elif spelt.setdefault(label_key(label), label) != label:
            problems.append(f"{path.name}: cell label {label!r} differs from {spelt[label_key(label)]!r} only in "
                            "upper and lower case or in how its characters are written")
        labels.append(label)
    if problems:
        raise InstrumentFileError("; ".join(problems) + f": {fix}, one per file (such as A, B, C)")
    return labels


def file_cells(paths: Iterable[str | Path], replicates: Sequence[str] | None = None,
               kind: FileKindChoice = "auto") -> list[tuple[str, Literal["cycling", "impedance"]]]:
    """Each file's cell label and kind, as :func:`results_from_files` gives them (nothing parsed
    beyond what tells the kind): the cells a mass per cell is asked for."""
    files = [Path(p) for p in paths]
    kinds = [file_kind for file_kind, _ in (_kind_of(path, kind) for path in files)]
    return list(zip(_cell_labels(files, replicates, kinds), kinds, strict=True))


def _retention_points(files: list[Path], evidence: list[EvidenceFile], table: pd.DataFrame,
                      reference_cycle: int) -> pd.DataFrame:
    """Every cycle's retention of each cycling file, as curve-point rows of its cell."""
    rows = []
    for k, (path, stored) in enumerate(zip(files, evidence, strict=True)):
        if stored.kind != "cycling":
            continue
        curve = retention_curve(read_cycling(path), reference_cycle=reference_cycle, name=path.name)
        cell = {c: table[c].iloc[k] for c in ("experiment_id", "replicate") if c in table.columns}
        rows += [{**cell, "cycle": int(n), RETENTION: float(v)}
                 for n, v in zip(curve.index.astype(int), curve.to_numpy(float), strict=True) if pd.notna(v) and n >= 1]
    return pd.DataFrame(rows)


__all__ = ["ActiveMasses", "FilePreview", "file_cells", "parser_name", "results_from_files"]
