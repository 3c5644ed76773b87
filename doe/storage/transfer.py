"""Export and import of whole campaigns (``format: doe-campaign``).

:func:`export_rows` reads a campaign into JSON-ready data; :func:`check_import` checks an
export section by section (configuration versions, experiments, measurements, audit log)
into an :class:`ImportPlan`, and :func:`insert_import` writes that plan in the caller's
transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from doe.domain.config import CampaignConfig, column_name_clashes
from doe.domain.objectives import valid_range_text
from doe.domain.parameters import CategoricalParameter, composed
from doe.domain.records import MAX_EVIDENCE_BYTES, MAX_REPLICATE, STATUSES
from doe.domain.table import check_in_space, validate_experiments
from doe.domain.values import (
    NOT_UNICODE,
    is_integer,
    is_plain_label,
    is_real_number,
    is_stored_printable,
    refused_character,
    to_python,
    unicode_problems,
)
from doe.domain.yaml_text import load_yaml
from doe.errors import ConfigError, DataError, StorageError, shorten_text
from doe.storage import schema as s
from doe.storage.rows import audit_row, check_name_free, new_state_token
from doe.storage.values import (
    MAX_ACTOR,
    MAX_CAMPAIGN_NAME,
    MAX_ITEMS_PER_WRITE,
    MAX_JSON_CHARS,
    OUTCOME_NAME,
    check_cycle,
    check_finite,
    check_label,
    check_text,
    dumps_json,
    iso_time,
    parse_time,
    shorten,
    utc_now,
)

EXPORT_FORMAT = "doe-campaign"
EXPORT_FORMAT_VERSION = 5
"""Version 2 added the evidence files (``files``, ``measurements[].file_sha256``), version 3
the failed replicate cells (``cell_failures``), version 4 their ``operator``, ``sample_id``
and ``measured_at``, version 5 the ``failure_note``, ``failure_operator``,
``failure_sample_id`` and ``failure_measured_at`` of failed experiments; exports of versions 1
to 4 are still read."""
READABLE_FORMAT_VERSIONS = (1, 2, 3, 4, 5)
_FIELDS = {
    "": ("format", "format_version", "schema_version", "name", "created_at", "created_by", "archived",
         "experiment_counter", "config_versions", "experiments", "measurements", "files", "cell_failures", "audit"),
    "config_versions": ("version", "created_at", "created_by", "config"),
    "experiments": ("experiment_id", "config_version", "status", "failure_reason", "failure_note", "failure_operator",
                    "failure_sample_id", "failure_measured_at", "batch_id", "source", "parameters",
                    "proposed_by", "proposed_at", "updated_at", "seed", "model_settings", "package_version",
                    "predictions"),
    "measurements": ("experiment_id", "outcome", "replicate", "cycle", "value", "unit", "measured_at", "recorded_by",
                     "recorded_at", "operator", "sample_id", "note", "superseded", "superseded_by", "file_sha256"),
    "files": ("sha256", "file_name", "kind", "file_format", "parser", "rule", "uploaded_by", "uploaded_at",
              "content_base64"),
    "cell_failures": ("experiment_id", "replicate", "reason", "note", "operator", "sample_id", "measured_at",
                      "recorded_by", "recorded_at"),
    "audit": ("at", "actor", "action", "experiment_id", "detail"),
}
"""The fields of each section's entries (``""``: the export itself), in every format version:
any other field is refused, since a misspelt one (``notes`` for ``note``) would be lost."""


def export_rows(conn: Connection, camp: Any, schema_version: str) -> dict[str, Any]:
    """Campaign ``camp`` (its ``campaigns`` row) as JSON-ready data.

    Measurements are listed oldest first; ``superseded_by`` is the position (0-based) of
    the measurement that replaced a corrected value; ``file_sha256`` names the evidence file
    (in ``files``, content in base64) a value was computed from.
    """
    e, m, cv, a, f = s.experiments, s.measurements, s.config_versions, s.audit_log, s.evidence_files
    files = conn.execute(sa.select(f).where(f.c.campaign_id == camp.id).order_by(f.c.id)).all()
    sha_of = {r.id: r.sha256 for r in files}
    versions = conn.execute(sa.select(cv).where(cv.c.campaign_id == camp.id).order_by(cv.c.version)).all()
    exps = conn.execute(sa.select(e).where(e.c.campaign_id == camp.id).order_by(e.c.id)).all()
    meas = conn.execute(
        sa.select(m, e.c.experiment_id).join(e, e.c.id == m.c.experiment_pk)
        .where(e.c.campaign_id == camp.id).order_by(m.c.id)).all()
    audit = conn.execute(sa.select(a).where(a.c.campaign_id == camp.id).order_by(a.c.id)).all()
    failures = conn.execute(sa.select(s.cell_failures, e.c.experiment_id).join(e, e.c.id == s.cell_failures.c.experiment_pk)
                            .where(e.c.campaign_id == camp.id).order_by(s.cell_failures.c.id)).all()
    position = {r.id: i for i, r in enumerate(meas)}
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "schema_version": schema_version,
        "name": camp.name,
        "created_at": iso_time(camp.created_at),
        "created_by": camp.created_by,
        "archived": bool(camp.archived),
        "experiment_counter": int(camp.experiment_counter),
        "config_versions": [
            {"version": int(r.version), "created_at": iso_time(r.created_at), "created_by": r.created_by,
             "config": r.config_yaml} for r in versions],
        "experiments": [
            {"experiment_id": r.experiment_id, "config_version": int(r.config_version), "status": r.status,
             "failure_reason": r.failure_reason, "failure_note": r.failure_note,
             "failure_operator": r.failure_operator, "failure_sample_id": r.failure_sample_id,
             "failure_measured_at": iso_time(r.failure_measured_at), "batch_id": r.batch_id, "source": r.source,
             "parameters": json.loads(r.parameters), "proposed_by": r.proposed_by,
             "proposed_at": iso_time(r.proposed_at), "updated_at": iso_time(r.updated_at),
             "seed": r.seed, "model_settings": json.loads(r.model_settings),
             "package_version": r.package_version, "predictions": json.loads(r.predictions)}
            for r in exps],
        "measurements": [
            {"experiment_id": r.experiment_id, "outcome": r.outcome, "replicate": r.replicate or None,
             **({"cycle": int(r.cycle)} if r.cycle else {}), "value": float(r.value),
             "unit": r.unit, "measured_at": iso_time(r.measured_at), "recorded_by": r.recorded_by,
             "recorded_at": iso_time(r.recorded_at), "operator": r.operator, "sample_id": r.sample_id,
             "note": r.note, "superseded": bool(r.superseded),
             "superseded_by": None if r.superseded_by is None else position[r.superseded_by],
             "file_sha256": None if r.file_id is None else sha_of[r.file_id]}
            for r in meas],
        "files": [
            {"sha256": r.sha256, "file_name": r.file_name, "kind": r.kind, "file_format": r.file_format,
             "parser": r.parser, "rule": json.loads(r.rule), "uploaded_by": r.uploaded_by,
             "uploaded_at": iso_time(r.uploaded_at), "content_base64": base64.b64encode(r.content).decode("ascii")}
            for r in files],
        "cell_failures": [
            {"experiment_id": r.experiment_id, "replicate": r.replicate, "reason": r.reason, "note": r.note,
             "operator": r.operator, "sample_id": r.sample_id, "measured_at": iso_time(r.measured_at),
             "recorded_by": r.recorded_by, "recorded_at": iso_time(r.recorded_at)} for r in failures],
        "audit": [
            {"at": iso_time(r.at), "actor": r.actor, "action": r.action, "experiment_id": r.experiment_id,
             "detail": r.detail} for r in audit],
    }


def insert_import(conn: Connection, plan: ImportPlan, url: str, actor: str) -> None:
    """Write ``plan`` as a new campaign, with one ``campaign_imported`` audit entry."""
    check_name_free(conn, plan.name, url, "choose another name: `doe import --name NAME`, `doe clone NEW_NAME` "
                    "(name= of import_json, new_name of clone in Python)")
    now = utc_now()
    cid = conn.execute(sa.insert(s.campaigns).values(
        name=plan.name, created_at=plan.created_at, created_by=plan.created_by, updated_at=now,
        archived=plan.archived, revision=1, state_token=new_state_token(), experiment_counter=plan.experiment_counter,
    ).returning(s.campaigns.c.id)).scalar_one()
    conn.execute(sa.insert(s.config_versions), [{**v, "campaign_id": cid} for v in plan.config_versions])
    file_id: dict[str, int] = {}
    for row in plan.files:
        file_id[row["sha256"]] = conn.execute(sa.insert(s.evidence_files).values({**row, "campaign_id": cid})
                                              .returning(s.evidence_files.c.id)).scalar_one()
    pk_of: dict[str, int] = {}
    if plan.experiments:
        e = s.experiments
        result = conn.execute(
            sa.insert(e).returning(e.c.id, e.c.experiment_id, sort_by_parameter_order=True),
            [{**x, "campaign_id": cid} for x in plan.experiments])
        pk_of = {r.experiment_id: r.id for r in result}
    if plan.measurements:
        m = s.measurements
        rows = [{k: v for k, v in x.items() if k not in ("experiment_id", "superseded_by", "file_sha256")}
                | {"experiment_pk": pk_of[x["experiment_id"]], "superseded_by": None,
                   "file_id": None if x["file_sha256"] is None else file_id[x["file_sha256"]]}
                for x in plan.measurements]
        ids = [r.id for r in conn.execute(
            sa.insert(m).returning(m.c.id, sort_by_parameter_order=True), rows)]
        links = [{"mid": ids[i], "sby": ids[x["superseded_by"]]}
                 for i, x in enumerate(plan.measurements) if x["superseded_by"] is not None]
        if links:
            conn.execute(sa.update(m).where(m.c.id == sa.bindparam("mid"))
                         .values(superseded_by=sa.bindparam("sby")), links)
    if plan.cell_failures:
        conn.execute(sa.insert(s.cell_failures), [
            {k: v for k, v in x.items() if k != "experiment_id"} | {"experiment_pk": pk_of[x["experiment_id"]]}
            for x in plan.cell_failures])
    audit = [{**x, "campaign_id": cid} for x in plan.audit]
    audit.append(audit_row(cid, now, actor, "campaign_imported", None, {
        "from_name": plan.source_name, "format_version": plan.format_version,
        "experiments": len(plan.experiments), "measurements": len(plan.measurements)}))
    conn.execute(sa.insert(s.audit_log), audit)


# --------------------------------------------------------------------------- import checks
@dataclass
class ImportPlan:
    """A checked export, ready to insert (rows as column mappings)."""

    name: str
    source_name: str
    format_version: int
    created_at: datetime
    created_by: str
    archived: bool
    experiment_counter: int
    config_versions: list[dict[str, Any]]
    experiments: list[dict[str, Any]]
    measurements: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    files: list[dict[str, Any]]
    cell_failures: list[dict[str, Any]] = field(default_factory=list)
    learn_from: tuple[str, ...] = ()
    """The campaigns the latest configuration version learns from (they must be in the database)."""


def check_import(data: Any, new_name: str | None) -> ImportPlan:
    """Check an export (see :meth:`doe.storage.sql.SqlStore.import_campaign`) into a plan.

    Raises:
        StorageError: naming the first field that is wrong.
    """
    version = _check_format(data)
    _known_fields(data, "")
    raw_versions, raw_exps, raw_meas, raw_audit = (
        _list(data, "config_versions"), _list(data, "experiments"), _list(data, "measurements"), _list(data, "audit"))
    total = len(raw_exps) + len(raw_meas) + len(raw_audit)
    if total > 5 * MAX_ITEMS_PER_WRITE:
        raise StorageError(f"the export holds {total} records; at most {5 * MAX_ITEMS_PER_WRITE} are imported at once")
    not_text = unicode_problems(data, "")
    if not_text:
        raise StorageError(f"{shorten_text(', '.join(not_text), 400)}: {NOT_UNICODE}; nothing was imported")
    source_name = data.get("name")
    if not isinstance(source_name, str):
        raise StorageError("export field 'name' must be text")
    name = _check_name(source_name) if new_name is None else _check_name(new_name, new=True)
    if not raw_versions:
        raise StorageError("the export has no configuration versions")
    configs: dict[int, CampaignConfig] = {}
    config_versions = [_check_config_version(i, raw, name, configs) for i, raw in enumerate(raw_versions)]
    _check_column_names(configs)
    experiments = _check_experiments(raw_exps, configs, name)
    outcomes = {o for config in configs.values() for o in config.outcome_names}
    files = _check_files(_list(data, "files"))
    measurements = _check_measurements(raw_meas, {x["experiment_id"] for x in experiments}, outcomes, name,
                                       {x["sha256"] for x in files})
    audit = [_check_audit_entry(i, raw) for i, raw in enumerate(raw_audit)]
    if version >= 3 and "cell_failures" not in data:  # a list may be empty, not absent (a cut-off file)
        raise StorageError("export field 'cell_failures' is missing (format version 3 lists the failed cells)")
    cell_failures = _check_cell_failures(_list(data, "cell_failures"), {x["experiment_id"] for x in experiments},
                                         measurements)
    _check_values(measurements, list(configs.values()), name)
    counter = data.get("experiment_counter", 0)
    if not is_integer(counter) or counter < 0:
        raise StorageError(f"export field 'experiment_counter' must be a whole number >= 0, got {shorten(counter)}")
    archived = data.get("archived", False)
    if not isinstance(archived, bool):
        raise StorageError("export field 'archived' must be true or false")
    created_at = parse_time(data.get("created_at"), "created_at")
    assert created_at is not None
    return ImportPlan(
        name=name, source_name=source_name, format_version=int(version), created_at=created_at,
        created_by=str(check_label(data.get("created_by"), "created_by", max_len=MAX_ACTOR)),
        archived=archived, experiment_counter=counter, config_versions=config_versions,
        experiments=experiments, measurements=measurements, audit=audit, files=files, cell_failures=cell_failures,
        learn_from=configs[max(configs)].learn_from,
    )


def _check_values(measurements: list[dict[str, Any]], configs: list[CampaignConfig], campaign: str) -> None:
    """Every value lies in its outcome's ``valid_range`` in at least one configuration version,
    as :meth:`doe.Campaign.record` checked it when it was recorded (a range narrowed later
    keeps the values recorded before)."""
    for i, x in enumerate(measurements):
        ranges = [c.valid_range_of(x["outcome"]) if x["outcome"] in c.outcome_names else None for c in configs]
        if any(r is None or ((r[0] is None or x["value"] >= r[0]) and (r[1] is None or x["value"] <= r[1]))
               for r in ranges):
            continue
        shown = "; ".join(dict.fromkeys(valid_range_text(r) for r in ranges if r is not None))
        raise StorageError(f"campaign {campaign!r}, measurements[{i}] (experiment {x['experiment_id']!r}): "
                           f"{x['outcome']} {x['value']!r} is outside the values it can take ({shown}: the "
                           "valid_range of every configuration version), so it cannot have been recorded; nothing "
                           "was imported")


def _check_format(data: Any) -> Any:
    if not isinstance(data, dict):
        raise StorageError(f"an exported campaign is a mapping, got {type(data).__name__}")
    if data.get("format") != EXPORT_FORMAT:
        raise StorageError(
            f"this is not a doe campaign export (format {shorten(data.get('format'))}, expected {EXPORT_FORMAT!r})")
    version = data.get("format_version")
    if version not in READABLE_FORMAT_VERSIONS or isinstance(version, bool):
        raise StorageError(
            f"campaign export format version {shorten(version)} is not supported (this doe reads "
            f"version {EXPORT_FORMAT_VERSION}); export it again with this doe or upgrade doe")
    return version


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise StorageError(f"export field {key!r} must be a list, got {type(value).__name__}")
    return value


def _check_name(name: Any, *, new: bool = False) -> str:  # the export's own name: as it was stored
    # a new name (an import's or a clone's) meets a new campaign's rule: no invisible character either
    if (not isinstance(name, str) or not name.strip() or name != name.strip()
            or len(name) > MAX_CAMPAIGN_NAME or not (is_plain_label(name) if new else is_stored_printable(name))):
        held = refused_character(name, invisible=new, stored=not new) if isinstance(name, str) else None
        raise StorageError(
            f"campaign name {shorten(name)} is not allowed: 1 to {MAX_CAMPAIGN_NAME} printable characters, "
            "no leading or trailing spaces" + (f" (it holds {held})" if held else ""))
    return composed(name)  # an older doe stored (and exported) a name as typed; a new one is stored composed


def _mapping(item: Any, where: str) -> dict[str, Any]:
    """``item``, an entry of the section ``where`` names (``measurements[3]``), with only the
    fields of its section."""
    if not isinstance(item, dict):
        raise StorageError(f"{where} must be a mapping, got {type(item).__name__}")
    _known_fields(item, where)
    return item


def _known_fields(item: dict[str, Any], where: str) -> None:
    fields = _FIELDS[where.split("[")[0]]
    unknown = [key for key in item if key not in fields]
    if unknown:
        inside = f"{where} has" if where else "the export has"
        raise StorageError(f"{inside} the field {shorten(unknown[0])}, which is not a field of a doe campaign export "
                           f"(fields: {', '.join(fields)}); a misspelt field would be lost, so nothing was imported")


def _check_config_version(i: int, raw: Any, name: str, configs: dict[int, CampaignConfig]) -> dict[str, Any]:
    """``config_versions[i]``, its configuration added to ``configs`` under its version number
    (which must not be there yet)."""
    raw = _mapping(raw, f"config_versions[{i}]")
    text = raw.get("config")
    if not isinstance(text, str) or len(text) > MAX_JSON_CHARS:
        raise StorageError(f"config_versions[{i}].config must be YAML text of at most {MAX_JSON_CHARS} characters")
    try:
        mapping = load_yaml(text)  # no aliases, no duplicate keys, no tags it cannot build
        if isinstance(mapping, dict):
            mapping["name"] = name
        config = CampaignConfig.from_dict(mapping, stored=True)
    except ConfigError as err:
        raise StorageError(f"config_versions[{i}] is not a valid configuration: {err}") from err
    number = raw.get("version")
    if not is_integer(number) or number < 1 or number in configs:
        raise StorageError(f"config_versions[{i}].version must be a unique whole number >= 1, got {shorten(number)}")
    configs[number] = config
    return {
        "version": number, "config_yaml": config.to_yaml(),
        "created_at": parse_time(raw.get("created_at"), f"config_versions[{i}].created_at"),
        "created_by": check_label(raw.get("created_by"), f"config_versions[{i}].created_by", max_len=MAX_ACTOR)}


def _check_column_names(configs: dict[int, CampaignConfig]) -> None:
    """Refuse a parameter, objective or outcome of any version named as a column doe reads or
    derives (``ce_n`` beside ``ce``), as a new configuration is refused: the versions are read
    leniently (``stored``), and the history would show one column in place of the other."""
    items: dict[str, dict[str, Any]] = {"parameters": {}, "objectives": {}, "outcomes": {}}
    for config in configs.values():
        for field_name, group in (("parameters", config.parameters), ("objectives", config.objectives),
                                  ("outcomes", config.outcomes)):
            items[field_name].update({item.name: item for item in group})
    if clashes := column_name_clashes(*(list(group.values()) for group in items.values())):
        raise StorageError("the export's configuration is refused, nothing was imported:\n"
                           + "\n".join(f"  - {c}" for c in clashes))


def _check_experiments(raw_exps: list[Any], configs: dict[int, CampaignConfig], campaign: str) -> list[dict[str, Any]]:
    experiments = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_exps):
        where = f"experiments[{i}]"
        raw = _mapping(raw, where)
        eid = check_label(raw.get("experiment_id"), f"{where}.experiment_id", stored=True)
        assert eid is not None
        if eid in seen:
            raise StorageError(f"{where}: experiment id {eid!r} appears twice")
        seen.add(eid)
        experiments.append(_check_experiment(where, eid, raw, configs, campaign))
    return experiments


def _check_experiment(where: str, eid: str, raw: dict[str, Any], configs: dict[int, CampaignConfig],
                      campaign: str) -> dict[str, Any]:
    if raw.get("status") not in STATUSES:
        raise StorageError(f"{where}.status {shorten(raw.get('status'))} is not one of {list(STATUSES)}")
    if raw.get("source") not in s.SOURCE_VALUES:
        raise StorageError(f"{where}.source {shorten(raw.get('source'))} is not one of {list(s.SOURCE_VALUES)}")
    if not is_integer(raw.get("config_version")) or raw.get("config_version") not in configs:
        raise StorageError(f"{where}.config_version {shorten(raw.get('config_version'))} is not a version of the export")
    seed = raw.get("seed")
    if seed is not None and (not is_integer(seed) or not 0 <= seed < 2**63):
        raise StorageError(f"{where}.seed must be a whole number from 0 to 2**63-1, got {shorten(seed)}")
    if not isinstance(raw.get("parameters"), dict):
        raise StorageError(f"{where}.parameters must be a mapping")
    for key in ("model_settings", "predictions"):  # absent or null: none (exports of imported history)
        if not isinstance(raw.get(key) or {}, dict):
            raise StorageError(f"{where}.{key} must be a mapping, got {shorten(raw.get(key))}")
    parameters = _check_parameters(raw["parameters"], configs[raw["config_version"]],
                                   f"campaign {campaign!r}, {where} (experiment {eid!r})")
    return {
        "experiment_id": eid, "config_version": raw["config_version"], "status": raw["status"],
        "failure_reason": check_text(raw.get("failure_reason"), f"{where}.failure_reason"),
        **_failure_context(raw, where, failed=raw["status"] == "failed"),
        "batch_id": check_label(raw.get("batch_id"), f"{where}.batch_id", optional=True),
        "source": raw["source"], "parameters": dumps_json(parameters, f"{where}.parameters"),
        "proposed_by": check_label(raw.get("proposed_by"), f"{where}.proposed_by", max_len=MAX_ACTOR),
        "proposed_at": parse_time(raw.get("proposed_at"), f"{where}.proposed_at"),
        "updated_at": parse_time(raw.get("updated_at"), f"{where}.updated_at"),
        "seed": seed, "model_settings": dumps_json(raw.get("model_settings") or {}, f"{where}.model_settings"),
        "package_version": check_label(raw.get("package_version"), f"{where}.package_version", optional=True),
        "predictions": dumps_json(raw.get("predictions") or {}, f"{where}.predictions")}


def _failure_context(raw: dict[str, Any], where: str, *, failed: bool) -> dict[str, Any]:
    """An experiment's ``failure_note``, ``failure_operator``, ``failure_sample_id`` and
    ``failure_measured_at`` (absent before format version 5), checked as a failed cell's are;
    given for an experiment that is not failed, refused (a failure alone keeps them)."""
    context = {
        "failure_note": check_text(raw.get("failure_note"), f"{where}.failure_note"),
        "failure_operator": check_label(raw.get("failure_operator"), f"{where}.failure_operator", max_len=MAX_ACTOR,
                                        optional=True),
        "failure_sample_id": check_label(raw.get("failure_sample_id"), f"{where}.failure_sample_id", optional=True),
        "failure_measured_at": parse_time(raw.get("failure_measured_at"), f"{where}.failure_measured_at",
                                          optional=True)}
    given = [k for k, v in context.items() if v is not None]
    if given and not failed:
        raise StorageError(f"{where}: {', '.join(given)} given for an experiment that is not failed; only a failed "
                           "experiment keeps them")
    return context


def _check_parameters(parameters: dict[str, Any], config: CampaignConfig, where: str) -> dict[str, Any]:
    """The recipe of an imported experiment, checked and cleaned as :meth:`doe.Campaign.record`
    checks and stores a new one (every parameter of its configuration version, in bounds, a
    known label, the constraints met; a label's surrounding spaces dropped, a value a hair
    outside its bounds set on them), so that nothing imported can break the campaign's history
    later: a stored ' O2 ' was a label the model then dropped."""
    unknown = [key for key in parameters if key not in config.parameter_names]
    if unknown:
        raise StorageError(f"{where}: parameter {shorten(unknown[0])} is not in its configuration version "
                           f"(parameters: {', '.join(config.parameter_names)})")
    for param in config.parameters:
        value = parameters.get(param.name)
        wrong_type = (not isinstance(value, str) if isinstance(param, CategoricalParameter)
                      else not is_real_number(value))
        if value is None or wrong_type:
            raise StorageError(f"{where}: parameter {param.name!r} is {shorten(value)}; "
                               f"expected {param.describe_allowed()}")
    recipe = pd.DataFrame([parameters], columns=config.parameter_names)
    try:
        clean = validate_experiments(recipe, config, outcomes_allowed=False)
    except DataError as err:
        problem = err.problems[0]
        raise StorageError(f"{where}: parameter {problem.column!r} is {shorten(problem.value)}: "
                           f"{problem.problem}") from err
    for problem in check_in_space(clean, config):
        raise StorageError(f"{where}: the recipe {problem.problem}")
    return {name: to_python(clean[name].iloc[0]) for name in config.parameter_names}  # as record() stores it


def _check_files(raw_files: list[Any]) -> list[dict[str, Any]]:
    files = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_files):
        where = f"files[{i}]"
        raw = _mapping(raw, where)
        encoded = raw.get("content_base64")
        if not isinstance(encoded, str) or len(encoded) > 2 * MAX_EVIDENCE_BYTES:
            raise StorageError(f"{where}.content_base64 must be the file's bytes in base64 (at most "
                               f"{MAX_EVIDENCE_BYTES / 1e6:.0f} MB)")
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise StorageError(f"{where}.content_base64 is not base64") from None
        sha = raw.get("sha256")
        if sha != hashlib.sha256(content).hexdigest():
            raise StorageError(f"{where}.sha256 is not the SHA-256 of its content")
        if sha in seen:
            raise StorageError(f"{where}: the file {sha} is listed twice")
        seen.add(sha)
        kind = raw.get("kind")
        if kind not in ("cycling", "impedance"):
            raise StorageError(f"{where}.kind must be 'cycling' or 'impedance', got {shorten(kind)}")
        rule = raw.get("rule", {})
        if not isinstance(rule, dict):
            raise StorageError(f"{where}.rule must be a mapping")
        files.append({
            "sha256": sha, "file_name": check_label(raw.get("file_name"), f"{where}.file_name", max_len=255),
            "size_bytes": len(content), "content": content, "kind": kind,
            "file_format": check_label(raw.get("file_format"), f"{where}.file_format"),
            "parser": check_label(raw.get("parser"), f"{where}.parser", max_len=200),
            "rule": dumps_json(rule, f"{where}.rule"),
            "uploaded_by": check_label(raw.get("uploaded_by"), f"{where}.uploaded_by", max_len=MAX_ACTOR),
            "uploaded_at": parse_time(raw.get("uploaded_at"), f"{where}.uploaded_at")})
    return files


def _of_experiment(raw: Any, where: str, seen: set[str]) -> tuple[dict[str, Any], str]:
    """An entry (a mapping) about an experiment of the export, and that experiment's id."""
    raw = _mapping(raw, where)
    eid = raw.get("experiment_id")
    if not isinstance(eid, str) or eid not in seen:
        raise StorageError(f"{where}: experiment {shorten(eid)} is not in the export")
    return raw, str(eid)


def _check_measurements(raw_meas: list[Any], seen: set[str], outcomes: set[str],
                        campaign: str, files: set[str]) -> list[dict[str, Any]]:
    measurements = []
    current: set[tuple[str, str, str, int]] = set()
    for i, raw in enumerate(raw_meas):
        where = f"measurements[{i}]"
        raw, eid = _of_experiment(raw, where, seen)
        outcome = raw.get("outcome")
        if not isinstance(outcome, str) or not OUTCOME_NAME.fullmatch(outcome):
            raise StorageError(f"{where}.outcome {shorten(outcome)} is not an outcome name")
        if outcome not in outcomes:
            raise StorageError(f"campaign {campaign!r}, {where} (experiment {eid!r}): outcome {outcome!r} is not "
                               f"an outcome of the campaign's configuration (outcomes: {', '.join(sorted(outcomes))})")
        superseded = raw.get("superseded")
        link = raw.get("superseded_by")
        if not isinstance(superseded, bool):
            raise StorageError(f"{where}.superseded must be true or false")
        if link is not None and (not is_integer(link)
                                 or not 0 <= link < len(raw_meas) or link == i):
            raise StorageError(f"{where}.superseded_by must be the position of another measurement, got {shorten(link)}")
        # absent or null: an unlabelled measurement (exports made before replicates existed)
        replicate = check_label(raw.get("replicate"), f"{where}.replicate", max_len=MAX_REPLICATE, optional=True, stored=True) or ""
        # absent or null: not a curve point (exports made before curve outcomes existed)
        cycle = check_cycle(raw.get("cycle"), f"{where}.cycle")
        file_sha256 = raw.get("file_sha256")
        if file_sha256 is not None and (not isinstance(file_sha256, str) or file_sha256 not in files):
            raise StorageError(f"{where}.file_sha256 {shorten(file_sha256)} is not a file of the export")
        if not superseded:
            if (eid, outcome, replicate, cycle) in current:
                cell = (f" replicate {replicate!r}" if replicate else "") + (f" cycle {cycle}" if cycle else "")
                raise StorageError(f"{where}: {eid}{cell} {outcome} has two current values; mark one superseded")
            current.add((eid, outcome, replicate, cycle))
        measurements.append({
            "experiment_id": eid, "outcome": outcome, "replicate": replicate, "cycle": cycle,
            "value": check_finite(raw.get("value"), f"{where}.value", i, outcome),
            "unit": check_label(raw.get("unit"), f"{where}.unit", max_len=32, optional=True),
            "measured_at": parse_time(raw.get("measured_at"), f"{where}.measured_at", optional=True),
            "recorded_by": check_label(raw.get("recorded_by"), f"{where}.recorded_by", max_len=MAX_ACTOR),
            "recorded_at": parse_time(raw.get("recorded_at"), f"{where}.recorded_at"),
            "operator": check_label(raw.get("operator"), f"{where}.operator", max_len=MAX_ACTOR, optional=True),
            "sample_id": check_label(raw.get("sample_id"), f"{where}.sample_id", optional=True),
            "note": check_text(raw.get("note"), f"{where}.note"), "superseded": superseded,
            "superseded_by": link, "file_sha256": file_sha256})
    return measurements


def _check_cell_failures(raw_failures: list[Any], seen: set[str],
                         measurements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The failed cells of an export (absent before version 3): one per (experiment, label),
    none of a cell with a current value."""
    measured = {(x["experiment_id"], x["replicate"]) for x in measurements if not x["superseded"]}
    failures, keys = [], set()
    for i, raw in enumerate(raw_failures):
        where = f"cell_failures[{i}]"
        raw, eid = _of_experiment(raw, where, seen)
        replicate = check_label(raw.get("replicate"), f"{where}.replicate", max_len=MAX_REPLICATE, stored=True)
        reason = check_text(raw.get("reason"), f"{where}.reason")
        if not replicate or not reason or not reason.strip():
            raise StorageError(f"{where}: a failed cell needs its replicate label and a reason")
        if (eid, replicate) in keys or (eid, replicate) in measured:
            raise StorageError(f"{where}: {eid} replicate {replicate!r} is listed twice, or failed and measured")
        keys.add((eid, replicate))
        failures.append({
            "experiment_id": eid, "replicate": replicate, "reason": reason.strip(),
            "note": check_text(raw.get("note"), f"{where}.note"),
            "operator": check_label(raw.get("operator"), f"{where}.operator", max_len=MAX_ACTOR, optional=True),
            "sample_id": check_label(raw.get("sample_id"), f"{where}.sample_id", optional=True),
            "measured_at": parse_time(raw.get("measured_at"), f"{where}.measured_at", optional=True),
            "recorded_by": check_label(raw.get("recorded_by"), f"{where}.recorded_by", max_len=MAX_ACTOR),
            "recorded_at": parse_time(raw.get("recorded_at"), f"{where}.recorded_at")})
    return failures


def _check_audit_entry(i: int, raw: Any) -> dict[str, Any]:
    where = f"audit[{i}]"
    raw = _mapping(raw, where)
    detail = raw.get("detail", "{}")
    return {
        "at": parse_time(raw.get("at"), f"{where}.at"),
        "actor": check_label(raw.get("actor"), f"{where}.actor", max_len=MAX_ACTOR),
        "action": check_label(raw.get("action"), f"{where}.action"),
        "experiment_id": check_label(raw.get("experiment_id"), f"{where}.experiment_id", optional=True, stored=True),
        "detail": check_text(detail if isinstance(detail, str) else dumps_json(detail, f"{where}.detail"),
                             f"{where}.detail", max_len=MAX_JSON_CHARS)}
