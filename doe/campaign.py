"""``Campaign``: the one stateful object of doe.

A campaign ties a configuration (with its versions), the experiment history in a store and the
optimisation engine; Python, the web page, the command line and the closed-loop runner go through it::

    from doe import Campaign
    campaign = Campaign.from_config("hfo2-ncm85", storage=":memory:")
    batch = campaign.suggest(3)                 # experiment_id, parameters, predictions
    campaign.record(results)                    # any subset of outcomes; NaN = not measured
    campaign.best()

Storage: ``storage=None`` is the default SQLite file (``DOE_DATABASE_URL`` or ``<DOE_HOME>/doe.sqlite3``),
``":memory:"`` a private in-memory database, a plain path an SQLite file, and any SQLAlchemy URL a server.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from doe.domain import carried_ids, config_changes, contention, exports, ranking, read_back, records
from doe.domain.batches import (
    carried_columns,
    check_clonable,
    failed_after_measuring,
    finished_cells,
    finished_evidence,
    history_table,
    proposals_table,
    request_batch,
    training_digest,
    training_table,
)
from doe.domain.config import CampaignConfig, ConfigVersion
from doe.domain.file_rows import file_problems, in_file
from doe.domain.parameters import composed
from doe.domain.record_plan import plan_table
from doe.domain.records import PENDING_STATUSES, CarriedEvidence, RecordReport, StatusChange
from doe.domain.requests import request_record, require_table, validate_request
from doe.domain.table import ID_COLUMN, checked_reason, validate_experiments
from doe.domain.transfer import source_training, sources_digest
from doe.domain.values import count_text, is_integer
from doe.errors import ConcurrentChangeError, ConfigError, DataError, ProposalError, StorageError
from doe.paths import acting
from doe.storage import open_store
from doe.storage.engine import mask_url
from doe.storage.snapshot import CampaignState, StateCache, consistent_read
from doe.templates import resolve_config
from doe.workers import suggest_on_worker

if TYPE_CHECKING:
    from doe.engine import EngineSettings, Surrogates
    from doe.instruments import FilePreview
    from doe.storage.base import CampaignStore

logger = logging.getLogger(__name__)

MAX_BATCH = 1_000
SUGGEST_ATTEMPTS = 5
"""Times a batch (or a record's plan) is computed again when the campaign changed meanwhile."""


class Campaign:
    """A coating campaign: configuration, history and proposals. Build with
    :meth:`from_config` or :meth:`load`, not the constructor."""

    def __init__(self, store: CampaignStore, name: str, *, actor: str | None = None,
                 device: Literal["auto", "cpu", "cuda"] | None = None, settings: EngineSettings | None = None) -> None:
        self._store = store
        self._name = name
        self.actor = acting(actor)  # "" is refused, not the login
        self._settings = settings if settings is None or device is None else replace(settings, device=device)
        self._device = device or "auto"
        self._config_cache: tuple[CampaignState, CampaignConfig, int] | None = None
        self._model_cache: dict[str, Surrogates] = {}
        self._history = StateCache(self.state, name)  # one state of the store, refitted when it changed

    # ------------------------------------------------------------------ building
    @classmethod
    def from_config(
        cls,
        config: CampaignConfig | dict[str, Any] | str | Path,
        storage: str | None = None,
        *,
        name: str | None = None,
        actor: str | None = None,
        device: Literal["auto", "cpu", "cuda"] | None = None,
        settings: EngineSettings | None = None,
        learn_from: Sequence[str] | None = None,
    ) -> Campaign:
        """Create a new campaign from a mapping, a YAML path or a template name.

        Args:
            config: the configuration, a ``.yaml`` path or a template name (``"hfo2-ncm85"``).
            storage: where to keep it (see the module docstring).
            name: store the campaign under this name instead of the config's.
            actor: who creates it (default: ``DOE_ACTOR`` or the login name).
            device: ``"auto"`` (CUDA for a history of over ``doe.engine.settings.CUDA_AUTO_MIN_ROWS``
                rows when torch sees it), ``"cpu"`` or ``"cuda"``; given with ``settings``, it is theirs.
            settings: engine settings (restarts, raw samples, ...), default tuned values.
            learn_from: earlier campaigns in this store that inform the model (:meth:`transfer_report`).

        Raises:
            ConfigError: the configuration is invalid (every problem listed).
            StorageError: a campaign of that name exists already, or a ``learn_from`` one does not.
        """
        validated = resolve_config(config)
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if learn_from is not None:
            changes["learn_from"] = [learn_from] if isinstance(learn_from, str) else list(learn_from)  # one name
        if validated.seed is None:
            # Record a seed so that every suggestion of this campaign can be reproduced.
            changes["seed"] = int(np.random.default_rng().integers(0, 2**31 - 1))
        if changes:
            validated = validated.replace(**changes)
        store = open_store(storage)  # create_campaign refuses learn_from names that do not exist
        who = acting(actor)
        store.create_campaign(validated, who)
        logger.info("created campaign %r in %s", validated.name, mask_url(store.url))
        return cls(store, validated.name, actor=who, device=device, settings=settings)

    @classmethod
    def load(cls, name: str, storage: str | None = None, *, actor: str | None = None,
             device: Literal["auto", "cpu", "cuda"] | None = None, settings: EngineSettings | None = None) -> Campaign:
        """Open an existing campaign by name, typed composed or decomposed (StorageError lists the names that exist)."""
        store = open_store(storage)
        store.load_config(name)  # raises StorageError for an unknown name
        return cls(store, name, actor=actor, device=device, settings=settings)

    @classmethod
    def import_json(
        cls, data: dict[str, Any], storage: str | None = None, *, name: str | None = None, actor: str | None = None
    ) -> Campaign:
        """Recreate a campaign exported with :meth:`export_json` (config, history, audit); its name is stored composed."""
        store = open_store(storage)
        who = acting(actor)
        new_name = store.import_campaign(data, who, new_name=name)
        return cls(store, new_name, actor=who)

    # ------------------------------------------------------------------ state
    @property
    def name(self) -> str:
        return self._name

    @property
    def store(self) -> CampaignStore:
        return self._store

    @property
    def storage_url(self) -> str:
        return self._store.url

    def revision(self) -> int:
        """Grows with every change of this campaign in the store (a restore may bring back an earlier one)."""
        return self._store.revision(self._name)

    def state(self) -> CampaignState:
        """The stored state (revision and a token every change sets anew; one query): the key of
        what is cached from it, one state even after a restore brings a revision number back."""
        return self._store.state(self._name)

    def _config_and_version(self) -> tuple[CampaignConfig, int]:
        state = self.state()
        if self._config_cache is None or self._config_cache[0] != state:
            self._config_cache = (state, *self._store.load_config(self._name))
        return self._config_cache[1], self._config_cache[2]

    @property
    def config(self) -> CampaignConfig:
        """The latest configuration version."""
        return self._config_and_version()[0]

    @property
    def config_version(self) -> int:
        return self._config_and_version()[1]

    @property
    def seed(self) -> int:
        return int(self.config.seed or 0)

    @property
    def settings(self) -> EngineSettings:
        from doe.engine import EngineSettings

        self._settings = self._settings or EngineSettings(device=self._device)
        return self._settings

    def current_config(self) -> ConfigVersion:
        """The latest configuration with its version number, read at one state: what an edit
        starts from (:meth:`update_config`'s ``based_on``)."""
        return ConfigVersion(self.config_version, self.config)

    def update_config(self, config: CampaignConfig | dict[str, Any] | str | Path, *,
                      based_on: int | ConfigVersion | None = None) -> int:
        """Store a changed configuration (e.g. a widened range) as a new version. ``based_on``: the
        version the edit started from, a :meth:`current_config` or a number (the configuration this
        Campaign last read as that version, or the number alone if it read none); another version
        saved since, or that number now another configuration (a restored backup):
        ConcurrentChangeError, nothing saved. Experiments keep the version they were proposed
        under; a change that would read stored values in another unit or type is refused
        (ConfigError). Returns the new version."""
        if isinstance(based_on, int) and self._config_cache is not None and self._config_cache[2] == based_on:
            based_on = ConfigVersion(based_on, self._config_cache[1])  # read before self.config reads again
        validated = (CampaignConfig.from_dict(config, stored_name=self._name) if isinstance(config, dict)
                     else resolve_config(config))
        if composed(validated.name) != composed(self._name):  # a name stored decomposed is the same name
            raise ConfigError(
                f"name: the new configuration is named {validated.name!r} but this campaign is "
                f"{self._name!r}; use clone() to start a campaign under another name"
            )
        if validated.seed is None:
            validated = validated.replace(seed=self.seed)
        if validated == self.config:
            return self.config_version
        read_back.check_names_free(validated, self.measurements())  # units, types: the store
        old, history = self.config, pd.DataFrame()  # the app's warnings: none where the stored values do not
        with contextlib.suppress(StorageError):  # read under the latest version (the one saved here repairs it)
            history = self._store.experiments(self._name)
        version = self._store.add_config_version(self._name, validated, self.actor, based_on)
        for warning in config_changes.config_change_warnings(old, validated, history):
            logger.warning("campaign %r, configuration version %d: %s", self._name, version, warning)
        return version

    def archive(self, archived: bool = True) -> None:
        self._store.set_archived(self._name, records.checked_flag(archived, "archived"), self.actor)

    def clone(self, new_name: str, storage: str | None = None, *, with_history: bool = False) -> Campaign:
        """A new campaign with this configuration under ``new_name`` (and, if asked, the completed
        and failed experiments as imported history, under their stored ids and replicate labels:
        every current cell and curve point with its note, operator, sample id, time and evidence
        file, and every failed cell).

        The clone is built in a private in-memory database and written to ``storage`` by
        :meth:`import_json` in one transaction: a clone refused or killed half-way leaves nothing."""
        ids, h, m, failures = carried_ids.with_stand_ins(self.history(), self.measurements(), self.cell_failures())
        table = finished_cells(h, m, self.config, failures) if records.checked_flag(with_history, "with_history") else h.iloc[:0]
        check_clonable(table, self.config, carried_columns(table, self.config))  # before the clone exists: none left if refused
        config = CampaignConfig.from_dict(self.config.to_dict() | {"name": new_name}, stored=True)
        draft = Campaign.from_config(CampaignConfig.from_dict(config.to_dict() | {"learn_from": []}, stored=True),
                                     storage=":memory:", actor=self.actor)  # stored: as it loads, not re-judged
        try:  # learn_from names campaigns of the target database: the draft has none, the import checks them
            if len(table):
                draft._record(table, False, False, False, finished_evidence(table, m, self.files(), self.file_content))
                for exp_id, reason in failed_after_measuring(h, m).items():  # measured, then failed
                    draft.fail([exp_id], reason)
            data = ids.restore(draft.export_json()) | {"name": self._name}  # the import's audit entry names the source
        finally:
            draft.store.close()
        data["config_versions"][0]["config"] = config.to_yaml()
        target = storage if storage is not None else self._store.url
        return Campaign.import_json(data, target, name=new_name, actor=self.actor)

    # ------------------------------------------------------------------ reading
    def _experiments(self) -> pd.DataFrame:
        return self._store.experiments(self._name)

    def history(self, status: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Every experiment: experiment_id, status, batch_id, config_version, parameters,
        outcomes (NaN = not measured; the mean of the cells of a replicated experiment),
        ``<outcome>_sd``/``_n`` of every outcome once any experiment has several cells
        (:mod:`doe.domain.replicates`), failure_reason, failure_note, failure_operator,
        failure_sample_id, failure_measured_at (what the row failing a whole experiment gave; empty
        on any experiment not failed), proposed_by, proposed_at, source;
        curve outcomes' columns (:mod:`doe.domain.curves`). :meth:`measurements` lists every cell.
        Read at one state of the campaign and computed once per state (:meth:`state`: a restored
        backup or a campaign made again under this name is another state, though its revision number
        may be one seen before; each call gets a copy; a change made outside doe, which sets no new
        state, shows once the campaign is loaded again)."""
        out = self._history.table(lambda: history_table(self._experiments(), self.config, self.measurements))
        if status is not None:  # a status it does not know is refused, not an empty table
            out = out[out["status"].isin(records.wanted_statuses(status))].reset_index(drop=True)
        return out

    def pending(self) -> pd.DataFrame:
        """Experiments proposed or running, not yet measured."""
        return self.history(status=list(PENDING_STATUSES))

    def measurements(self, include_superseded: bool = False) -> pd.DataFrame:
        return self._store.measurements(self._name, include_superseded=records.checked_flag(include_superseded, "include_superseded"))

    def cell_failures(self) -> pd.DataFrame:
        """Replicate cells that gave no result: experiment_id, replicate, failure_reason, note, operator, sample_id,
        measured_at, recorded_by, recorded_at (a row of :meth:`record` with a ``replicate`` label, marked failed)."""
        return self._store.cell_failures(self._name)

    def audit(self) -> pd.DataFrame:
        return self._store.audit(self._name)

    def config_versions(self) -> pd.DataFrame:
        return self._store.config_versions(self._name)

    def proposals(self) -> pd.DataFrame:
        """Provenance of every experiment doe proposed: seed, model settings, package
        version and the model's prediction at proposal time."""
        return proposals_table(self._experiments())

    # ------------------------------------------------------------------ model
    def _training_table(self, history: pd.DataFrame | None = None) -> pd.DataFrame:
        """Finished experiments in the engine's form (see :func:`doe.domain.batches.training_table`)."""
        return training_table(self.history() if history is None else history, self.config)

    def _surrogates(self, training: pd.DataFrame | None = None) -> Surrogates:
        """The fitted models for the current data, cached by the data's content."""
        from doe.engine import Surrogates

        training = self._training_table() if training is None else training
        store = self._store
        sources = {n: source_training(self.config, store.load_config(n)[0], store.experiments(n), store.measurements(n))
                   for n in self.config.learn_from}
        digest = training_digest(training, self.config, sources_digest(sources))
        model = self._model_cache.get(digest)
        if model is None:
            if len(training) == 0:
                raise ProposalError(f"campaign {self._name!r} has no finished experiment yet: record results (or "
                                    "ask suggest() for an initial design) before asking for predictions")
            memory = self._store.model_memory(self._name, self.revision())  # stored warm starts (doe.engine.warm)
            model = Surrogates(self.config, self.settings).fit(training.reset_index(drop=True), self.seed, sources, previous=next(iter(self._model_cache.values()), None), memory=memory)
            self._model_cache = {digest: model}  # keep one: the latest data
        return model

    def predict(self, recipes: pd.DataFrame) -> pd.DataFrame:
        """Predicted mean and standard deviation of every outcome for ``recipes`` (parameter
        columns), plus the probability that a run there succeeds and meets the constraints."""
        clean = validate_experiments(recipes, self.config, outcomes_allowed=False, outcome="nothing was predicted",
                                     ignore_columns=carried_columns(recipes, self.config))
        prediction = self._surrogates().predict(clean[self.config.parameter_names])
        prediction.index = recipes.index
        return prediction

    def cross_validate(self) -> pd.DataFrame:
        """Leave-one-out predictions: experiment_id, outcome, measured, predicted_mean, predicted_sd."""
        training = self._training_table()
        result = self._surrogates(training).cross_validate()
        ids = training.index.to_numpy()
        result.insert(0, ID_COLUMN, ids[result["experiment_index"].to_numpy(dtype=int)])
        return result.drop(columns=["experiment_index"])

    def transfer_report(self) -> pd.DataFrame:
        """Which ``learn_from`` campaigns inform which outcome, and how (:func:`doe.engine.transfer.transfer_table`)."""
        return self._surrogates().transfer_report()

    def feature_importance(self) -> pd.DataFrame:
        """Relative importance of each parameter for each modelled outcome (columns sum to 1)."""
        return self._surrogates().feature_importance()

    # ------------------------------------------------------------------ proposals
    def suggest(self, n: int = 1, fixed: dict[str, Any] | None = None, candidates: pd.DataFrame | None = None,
                design: Literal["model", "latin_hypercube", "screening"] = "model",
                request_id: str | None = None) -> pd.DataFrame:
        """Propose the next ``n`` experiments and store them as ``proposed`` (computed by a live
        ``doe worker`` on PostgreSQL while this call waits: :mod:`doe.workers`).

        Args:
            n: batch size (e.g. the furnace's capacity).
            fixed: parameter values held for this whole batch, e.g. ``{"dispersion_solvent": "chloroform"}``.
            candidates: a finite set of recipes the lab can make (parameter columns): the batch
                is chosen among its rows, never one already measured or pending.
            design: ``"model"`` (a space-filling start, then the model), or a classical
                ``"latin_hypercube"`` or ``"screening"`` design (:mod:`doe.engine.classic`).
                The config's ``control_recipe`` is the last row of a batch of two or more (not from candidates).
            request_id: stored with the batch; a second call with it returns that batch (with other arguments: DataError).

        Returns:
            One row per experiment: ``experiment_id``, one column per parameter, the predicted
            ``<outcome>_mean`` and ``<outcome>_sd`` of each outcome, ``probability_feasible``,
            ``acquisition_value``, ``strategy`` and ``batch_id``.
        """
        if not is_integer(n) or not 1 <= n <= MAX_BATCH:
            raise ProposalError(f"n: the batch size must be a whole number from 1 to {MAX_BATCH}, "
                                f"got {count_text(n)}")
        require_table("candidates", candidates, optional=True)
        n, (fixed_clean, candidates_clean) = int(n), validate_request(fixed, candidates, self.config)
        if request_id is None:  # a caller, not a worker: a live worker computes it, if there is one
            request_id = suggest_on_worker(self.storage_url, self._name, n, actor=self.actor, fixed=fixed_clean,
                                           candidates=candidates_clean, settings=self._settings, design=design)
        from doe.engine.batch import next_batch

        for attempt in range(SUGGEST_ATTEMPTS):  # optimistic: recomputed when someone wrote meanwhile
            state = self.state()
            config, version = self._config_and_version()  # this state's: never a batch stamped with a newer one
            asked = request_record(n, fixed_clean, candidates_clean, design, config)  # a reuse must ask for the same
            if request_id is not None and (done := request_batch(self._experiments(), request_id, config, asked)) is not None:
                return done  # done before, or by another client of this request while this one computed
            try:
                fixed_clean, candidates_clean = validate_request(fixed, candidates, config)
                recipes, new, strategy = next_batch(
                    config, self.history(), n, campaign_seed=self.seed, config_version=version, settings=self.settings,
                    fit=self._surrogates, fixed=fixed_clean, candidates=candidates_clean, design=design,
                    request_id=request_id)
                report = self._store.write(self._name, actor=self.actor, new_experiments=new, audit_action="suggest",
                                           expect_state=state)
                break
            except Exception as error:
                lost_race = isinstance(error, ConcurrentChangeError)
                if attempt < SUGGEST_ATTEMPTS - 1 and (lost_race or self.state() != state):
                    continue  # someone wrote meanwhile (the configuration, maybe, under this computation)
                if lost_race and request_id is not None and (
                        done := request_batch(self._experiments(), request_id, config, asked)) is not None:
                    return done  # another client's write of this request was the one that landed
                if isinstance(error, ConcurrentChangeError):  # every try overtaken by another write
                    raise contention.overtaken_every_try(error, self._name, SUGGEST_ATTEMPTS, "suggestion") from error
                raise
        recipes.insert(0, ID_COLUMN, report.experiment_ids)
        recipes["batch_id"] = str(new[0].batch_id)
        logger.info("campaign %r: proposed %s (%s)", self._name, report.experiment_ids, strategy)
        return recipes

    def accept(self, experiment_ids: str | Iterable[str] | None = None) -> list[str]:
        """Mark proposed experiments as running (all proposed ones when ids is None)."""
        if experiment_ids is None:
            history = self.history()  # only here: history() refits every curve prediction
            ids = history.loc[history["status"] == "proposed", ID_COLUMN].tolist()
        else:
            ids = records.id_list(experiment_ids)
        if ids:
            self._store.write(self._name, actor=self.actor,
                              status_changes=[StatusChange(i, "running") for i in ids], audit_action="accept")
        return ids

    def fail(self, experiment_ids: str | Iterable[str], reason: str) -> None:
        """Mark experiments failed (no result), with the reason (e.g. 'dispersion gelled')."""
        why = checked_reason(reason, "reason")  # stored as a table's failure_reason is
        self._store.write(self._name, actor=self.actor, audit_action="fail",
                          status_changes=[StatusChange(i, "failed", why) for i in records.id_list(experiment_ids)])

    def abandon(self, experiment_ids: str | Iterable[str], reason: str | None = None) -> None:
        """Give up proposed or running experiments (they stop counting as pending)."""
        reason = checked_reason(reason, "reason", required=False)
        self._store.write(self._name, actor=self.actor, audit_action="abandon",
                          status_changes=[StatusChange(i, "abandoned", reason) for i in records.id_list(experiment_ids)])

    # ------------------------------------------------------------------ recording
    def record(self, table: pd.DataFrame, *, correct: bool = False, valid_rows_only: bool = False,
               allow_duplicates: bool = False) -> RecordReport:
        """Record results: rows with or without ``experiment_id``, any subset of outcomes.

        A row whose ``experiment_id`` is known adds its measured outcomes to that experiment
        (parameters may be left out; if given they must match); any other row is a new
        (historical) experiment and needs every parameter. ``failed`` (true/false) with
        ``failure_reason`` marks a run that gave no result (a ``failure_reason`` alone implies
        it). ``note`` is kept with the measurements (not a history file's: it joins them).
        ``replicate`` labels the cell of an experiment measured in several cells: rows with one
        ``experiment_id`` and different labels are separate measurements (the history shows
        their mean, sd and count); the same label with another value is a conflict.

        Args:
            table: the results.
            correct: let a result replace a recorded one: a value or its note, operator, sample
                id or date (the old stays in the history), a failure of a measured experiment or
                cell, a value of a failed one, another failure reason (kept in the audit trail).
                Without it a changed value or status raises ``ConflictError`` (nothing written);
                the same value again is a no-op (``RecordReport.context_not_stored``: new notes...).
            valid_rows_only: record the valid rows and report the others (``rejected``).
            allow_duplicates: record rows without ``experiment_id`` even when a stored
                experiment has the same parameters and measured values (a true repeat run);
                without it they are refused, so importing one file twice adds nothing (with
                ``correct``, skipped: a file recorded before is recorded again for its corrections).

        Raises: DataError listing every bad cell; nothing was recorded.
        """
        return self._record(table, correct, valid_rows_only, allow_duplicates, evidence=None)

    def _record(self, table: pd.DataFrame, correct: bool, valid_rows_only: bool, allow_duplicates: bool,
                evidence: FilePreview | CarriedEvidence | None) -> RecordReport:
        require_table("table", table)
        for attempt in range(SUGGEST_ATTEMPTS):  # planned from what is stored: planned again if it changed meanwhile
            state = self.state()
            config, version = self._config_and_version()
            predicted = self.proposals().set_index(ID_COLUMN)["predictions"].to_dict()
            plan, rejected = plan_table(table, config, version, self.history(), self.measurements(), predicted,
                                        correct=correct, valid_rows_only=valid_rows_only,
                                        allow_duplicates=allow_duplicates, files=self.files)
            try:  # e.g. a robot's retry of the same history file at once: the second finds the first's rows
                report = self._store.write(
                    self._name, actor=self.actor, new_experiments=plan.new_experiments, measurements=plan.measurements
                    if evidence is None else evidence.link(plan.measurements, plan.new_experiments),
                    status_changes=plan.status_changes, allow_corrections=correct, results=True, audit_action="record",
                    files=() if evidence is None else evidence.files, cell_failures=plan.cell_failures,
                    expect_state=state)
                break
            except ConcurrentChangeError as error:
                if attempt == SUGGEST_ATTEMPTS - 1:
                    raise contention.overtaken_every_try(error, self._name, SUGGEST_ATTEMPTS, "record") from error
        return plan.report(report, rejected)

    def record_files(self, paths: str | Path | Iterable[str | Path], *, experiment_id: str, active_mass_mg: float | Mapping[str, float] | None = None,
                     kind: Literal["auto", "cycling", "impedance"] = "auto", reference_cycle: int = 1,
                     replicates: Sequence[str] | None = None, confirm: bool = False, correct: bool = False) -> FilePreview:
        """Outcomes computed from instrument files (one path alone: one file) for one experiment, one cell per file,
        labelled ``replicates`` (default: the file names without suffix; :mod:`doe.instruments`), of ``active_mass_mg``
        (mg: one for every cell, or each cell's by label, {"A": 11.2, "B": 12.0}): a preview, recorded only with
        ``confirm=True`` (``correct``: as in :meth:`record`); a value outside its valid_range is named with its file in
        ``out_of_range`` and refused. A file is kept (:meth:`files`) with the values from it that are recorded, linked
        from them; files giving no new value change nothing. Spectra: the config's ``impedance`` circuit."""
        from doe.instruments.results import check_files_are_new_cells, results_from_files
        config, fit = self.config, self.config.impedance
        preview = results_from_files(
            paths, experiment_id=experiment_id, active_mass_mg=active_mass_mg, outcome_names=config.outcome_names,
            reference_cycle=reference_cycle, kind=kind, circuit=fit.circuit if fit else None,
            resistances=fit.resistances if fit else None, curve_outcomes=config.curve_outcomes,
            replicates=replicates, valid_range=config.valid_range_of)
        check_files_are_new_cells(preview, self.measurements(), self._experiments()[ID_COLUMN], self.file_content,
                                  self.files())
        if records.checked_flag(confirm, "confirm"):  # "no" is true to Python
            preview.refuse_out_of_range()  # by file, before record() refuses them by table row
            preview = replace(preview, recorded=self._record(preview.table, correct, False, False, evidence=preview))
        return preview

    def files(self) -> pd.DataFrame:
        """The stored instrument files (see :meth:`doe.storage.base.CampaignStore.files`)."""
        return self._store.files(self._name)

    def file_content(self, sha256: str) -> tuple[str, bytes]:
        """A stored file's name and its bytes exactly as recorded, by SHA-256."""
        return self._store.file_content(self._name, sha256)

    def best(self, n: int = 1) -> pd.DataFrame:
        """The best measured experiments (see :func:`doe.domain.ranking.best`).

        One objective: the top ``n`` completed experiments that meet the outcome constraints
        (a set-point objective: the closest to its target). Several, ``objective_mode:
        weighted``: ranked by the weighted desirability the acquisition maximises. Several,
        ``pareto``: the Pareto-optimal experiments ranked by the weighted sum of their scores
        scaled to the observed range (``Objective.weight``, default 1), top ``n``.
        """
        return ranking.best(self.history(status="completed"), self.config, n)

    def pareto_front(self) -> pd.DataFrame:
        """Completed experiments that meet the outcome constraints and that no other such
        experiment beats on every objective (history rows)."""
        return ranking.pareto_front(self.history(status="completed"), self.config)

    # ------------------------------------------------------------------ exchange
    def export_json(self) -> dict[str, Any]:
        """The whole campaign (config versions, experiments, measurements with their
        history, audit trail) as JSON-ready data; :meth:`import_json` recreates it."""
        return self._store.export_campaign(self._name)

    def import_table(self, source: Any, *, column_mapping: dict[str, str] | None = None,
                     file_format: Literal["csv", "xlsx"] | None = None, correct: bool = False,
                     valid_rows_only: bool = False, encoding: str | None = None,
                     allow_duplicates: bool = False, sheet: str | int = 0) -> RecordReport:
        """Record a CSV or Excel file of results or history (one transaction).

        ``encoding`` is the text encoding of a CSV file (default UTF-8, e.g. ``"cp1252"`` for
        Excel's 'CSV (Windows)'); ``sheet`` a workbook's sheet (name or 0-based position); the
        other arguments are those of :func:`doe.io.read_table` and :meth:`record`.
        """
        from doe.io import read_table

        table = read_table(source, self.config, column_mapping=column_mapping, file_format=file_format,
                           encoding=encoding, sheet=sheet)
        try:  # problems name the file's rows, as the engineer's spreadsheet shows them
            report = self.record(table, correct=correct, valid_rows_only=valid_rows_only, allow_duplicates=allow_duplicates)
        except DataError as err:
            raise in_file(err, table) from None
        return replace(report, unit_conversions=list(table.attrs.get("unit_conversions", [])),
                       rejected=file_problems(report.rejected, table), never_made=file_problems(report.never_made, table),
                       not_measured=file_problems(report.not_measured, table))

    def export_table(self, target: Any, *, file_format: Literal["csv", "xlsx"] | None = None, cells: bool = False) -> None:
        """Write the history as CSV or Excel (safe from spreadsheet formula injection).

        Args:
            target: a path or binary file object.
            file_format: ``"csv"`` or ``"xlsx"``; by default from the file name.
            cells: one row per replicate cell (``experiment_id``, ``replicate``, parameters, outcomes,
                ``active_mass_mg`` once a value came from a cycler file, ``failed``/``failure_reason`` once a
                cell failed; :func:`doe.domain.replicates.cells_table`) instead of one row per experiment
                with the means; such a file can be recorded again as it is.
        """
        from doe.io import write_table

        write_table(self.export_frame(cells=cells), target, file_format=file_format, units=self.config.units)

    def export_frame(self, *, cells: bool = False) -> pd.DataFrame:
        """The table :meth:`export_table` writes, read at one state of the campaign (ConcurrentChangeError
        when it changed during every try: :func:`doe.storage.snapshot.consistent_read`)."""
        _, (config, history, measurements, failures, files) = consistent_read(self.state, lambda: (
            self.config, self.history(), self.measurements(), self.cell_failures(), self.files()), self._name)
        return exports.exported_table(history, measurements, failures, config, cells=cells, files=files)

    def __repr__(self) -> str:
        return f"Campaign(name={self._name!r}, store={self._store!r})"  # the store masks a password


def list_campaigns(storage: str | None = None, include_archived: bool = False) -> pd.DataFrame:
    """The campaigns in a store: name, created_at, created_by, archived, config_version, n_experiments, updated_at."""
    return open_store(storage).list_campaigns(include_archived=include_archived)

