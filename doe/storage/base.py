"""The contract between :class:`doe.Campaign` and a campaign store.

The one implementation is :class:`doe.storage.sql.SqlStore` (SQLAlchemy 2: SQLite file,
in-memory SQLite, PostgreSQL). This module imports no SQLAlchemy, so the contract can be
read (and type-checked against) without a database.

Every write goes through :meth:`CampaignStore.write`, one transaction: all of it lands or
none of it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd

from doe.domain.config import CampaignConfig, ConfigVersion
from doe.domain.model_states import ModelState, ModelStateMemory
from doe.domain.records import (
    CellFailure,
    EvidenceFile,
    NewExperiment,
    NewMeasurement,
    StatusChange,
    WriteReport,
)
from doe.storage.snapshot import CampaignState


class CampaignStore(Protocol):
    url: str

    def close(self) -> None:
        """Release the store's connections (a private in-memory database is gone after it)."""

    def create_campaign(self, config: CampaignConfig, actor: str) -> None:
        """Store a new campaign with its configuration as version 1.

        Raises StorageError if a campaign of that name exists already.
        """

    def list_campaigns(self, include_archived: bool = False) -> pd.DataFrame:
        """One row per campaign: name, created_at, created_by, archived, config_version,
        n_experiments, updated_at."""

    def load_config(self, name: str, version: int | None = None) -> tuple[CampaignConfig, int]:
        """The configuration (latest when ``version`` is None) and its version number.

        Raises StorageError naming the campaigns that exist when ``name`` is unknown."""

    def config_versions(self, name: str) -> pd.DataFrame:
        """version, created_at, created_by, config (YAML text), one row per version."""

    def add_config_version(self, name: str, config: CampaignConfig, actor: str,
                           based_on: int | ConfigVersion | None = None) -> int:
        """Store a changed configuration as the next version; returns its number.

        ``based_on``: the version the edit started from (a :class:`ConfigVersion`: that number
        holding that configuration, compared in the write's transaction; a number: the number
        only); ConcurrentChangeError (nothing saved, naming who saved the version now stored) if
        another was saved since or version ``based_on`` is now another configuration (a restore).
        ConfigError (nothing saved) if it would read stored values in another unit or type than
        they were recorded in."""

    def set_archived(self, name: str, archived: bool, actor: str) -> None: ...

    def write(
        self,
        name: str,
        *,
        actor: str,
        new_experiments: Sequence[NewExperiment] = (),
        status_changes: Sequence[StatusChange] = (),
        measurements: Sequence[NewMeasurement] = (),
        allow_corrections: bool = False,
        results: bool = False,
        audit_action: str | None = None,
        files: Sequence[EvidenceFile] = (),
        expect_state: CampaignState | None = None,
        cell_failures: Sequence[CellFailure] = (),
    ) -> WriteReport:
        """Apply everything in one transaction, with an audit entry per change.

        Order inside the transaction: new experiments, then measurements, then status changes.
        ``WriteReport.experiment_ids`` lists the ids of ``new_experiments`` in order (assigned
        ``E0001``, ``E0002``, ... where ``experiment_id`` is None). A measurement or status
        change whose ``experiment_id`` is ``NewExperimentRef(k)`` refers to ``new_experiments[k]``
        of the same call (so new experiments and their results land in one transaction).
        Each (experiment, outcome, replicate) has one current value; another replicate label
        of the same experiment is a new measurement.
        A measurement equal to the current value of (experiment, outcome, replicate) is skipped
        (idempotent). A different value raises ConflictError (nothing written) unless
        ``allow_corrections``: then the old value is kept as superseded history. With
        ``results`` (the status changes come from recorded results, :meth:`doe.Campaign.record`),
        a status change that replaces a recorded result (a failure where values were measured,
        a value where a failure was, another failure reason) is a ConflictError unless
        ``allow_corrections`` as well.
        An unknown experiment id, an existing id in ``new_experiments`` or a status change
        not in ``doe.domain.records.ALLOWED_TRANSITIONS`` raises StorageError, nothing written.
        ``files`` are raw instrument files stored once per campaign (by SHA-256: a file stored
        before is not stored again); a measurement's ``file_sha256`` links it to one of them. A
        file is stored only with a measurement the write adds or corrects that links to it, so
        none is stored linked to no experiment.
        ``expect_state``: write only while the campaign is still at this stored state (the
        :meth:`state` the write was computed from: its revision and its token, so a restored
        backup back at that revision number is another state), else ConcurrentChangeError and
        nothing written.
        ``cell_failures``: replicate cells that gave no result, one per (experiment, label);
        a cell is measured or failed, not both (conflicts as :mod:`doe.storage.cells` says).
        """

    def experiments(self, name: str) -> pd.DataFrame:
        """Every experiment in creation order with columns: experiment_id, status, batch_id,
        config_version, source, <each parameter of the *latest* config and of older ones>,
        <each outcome: current value (the mean of its replicate cells), NaN if not measured>,
        when any experiment has several cells of an outcome: <outcome>_sd and <outcome>_n of
        every outcome (see :mod:`doe.domain.replicates`), when any value was computed from a
        stored instrument file: evidence_files (the files' names and SHA-256 prefixes, "; "
        separated), failure_reason, proposed_by,
        proposed_at, seed, predictions (dict), model_settings (dict), package_version."""

    def measurements(self, name: str, include_superseded: bool = False) -> pd.DataFrame:
        """experiment_id, outcome, replicate (the cell's label, None if unlabelled), value, unit,
        measured_at, recorded_by, recorded_at, operator and sample_id (who measured it and the lab's
        sample or cell id, None if not given), note, superseded (bool), file_name and
        file_sha256 (the evidence file the value was computed from, None if typed in or
        imported from a table); one row per cell."""

    def cell_failures(self, name: str) -> pd.DataFrame:
        """Failed replicate cells: experiment_id, replicate, failure_reason, note, operator,
        sample_id, measured_at (None where not given), recorded_by, recorded_at; one row per
        failed cell, experiments in creation order."""

    def files(self, name: str) -> pd.DataFrame:
        """The stored evidence files, oldest first: sha256, file_name, size_bytes, kind,
        file_format, parser, rule (dict), experiment_ids (those with a measurement from the
        file, comma-separated), uploaded_by, uploaded_at. No content (see :meth:`file_content`)."""

    def file_content(self, name: str, sha256: str) -> tuple[str, bytes]:
        """The stored file's name and its bytes, exactly as uploaded."""

    def audit(self, name: str) -> pd.DataFrame:
        """at, actor, action, experiment_id, detail (text), in order."""

    def revision(self, name: str) -> int:
        """A number that grows with every change of the campaign (a restore may bring back an
        earlier one, see :meth:`state`)."""

    def state(self, name: str) -> CampaignState:
        """The campaign's revision with its state token (one query): the key of anything cached
        from its stored state. Unlike the revision alone it names one state, also after a restore
        or a campaign made again under its name (:mod:`doe.storage.snapshot`)."""

    def discard_campaign(self, name: str, revision: int) -> None:
        """Delete a campaign with every row of it, only while its revision is ``revision``: the
        undo of a creation that failed half-way (:meth:`doe.Campaign.clone`), never a user's delete.

        Raises ConcurrentChangeError (nothing deleted) if the campaign changed since."""

    def model_states(self, name: str) -> list[ModelState]:
        """The campaign's stored GP hyperparameters, one per outcome (derived data, not exported)."""

    def save_model_states(self, name: str, states: Sequence[ModelState], data_revision: int) -> None:
        """Insert or replace these outcomes' states; the revision and the audit log stay as they are."""

    def model_memory(self, name: str, data_revision: int) -> ModelStateMemory:
        """The campaign's states for the engine: reads and writes that log failures, never raise."""

    def export_campaign(self, name: str) -> dict[str, Any]:
        """The whole campaign (config versions, experiments, measurements with history,
        audit) as JSON-ready data."""

    def import_campaign(self, data: dict[str, Any], actor: str, new_name: str | None = None) -> str:
        """Recreate an exported campaign exactly (one transaction); returns its name."""
