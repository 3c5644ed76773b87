"""Evidence files in the write path: the raw instrument files stored with their values (one
copy per campaign and content, :data:`doe.storage.schema.evidence_files`)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from doe.domain.records import MAX_EVIDENCE_BYTES, EvidenceFile
from doe.errors import StorageError
from doe.storage import schema as s
from doe.storage.rows import audit_row
from doe.storage.values import check_label, chunks, dumps_json, shorten


def prepare_file(i: int, f: EvidenceFile) -> dict[str, Any]:
    """The ``evidence_files`` row of ``files[i]``, checked (size limit, SHA-256, names)."""
    where = f"files[{i}]"
    if not isinstance(f, EvidenceFile):
        raise StorageError(f"{where} must be an EvidenceFile, got {type(f).__name__}")
    name = check_label(f.file_name, f"{where}.file_name", max_len=255)
    if not isinstance(f.content, bytes):
        raise StorageError(f"{where}.content must be bytes, got {type(f.content).__name__}")
    if len(f.content) > MAX_EVIDENCE_BYTES:
        raise StorageError(f"{where} ({name}): {len(f.content) / 1e6:.1f} MB is over the "
                           f"{MAX_EVIDENCE_BYTES / 1e6:.0f} MB limit of a stored file; nothing was recorded")
    if not f.content:
        raise StorageError(f"{where} ({name}): the file is empty")
    if f.sha256 != hashlib.sha256(f.content).hexdigest():
        raise StorageError(f"{where} ({name}).sha256 is not the SHA-256 of its content")
    if f.kind not in ("cycling", "impedance"):
        raise StorageError(f"{where}.kind must be 'cycling' or 'impedance', got {shorten(f.kind)}")
    return {"sha256": f.sha256, "file_name": name, "size_bytes": len(f.content), "content": f.content,
            "kind": f.kind, "file_format": check_label(f.file_format, f"{where}.file_format"),
            "parser": check_label(f.parser, f"{where}.parser", max_len=200),
            "rule": dumps_json(f.rule, f"{where}.rule")}




def stored_files(conn: Connection, cid: int, files: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The write's files not yet stored, and the ids of those that are (a campaign keeps one
    copy of each content: uploading a file again stores nothing)."""
    f = s.evidence_files
    wanted = sorted({row["sha256"] for row in files})
    ids: dict[str, int] = {}
    for chunk in chunks(wanted):
        for hit in conn.execute(sa.select(f.c.sha256, f.c.id).where(f.c.campaign_id == cid, f.c.sha256.in_(chunk))):
            ids[hit.sha256] = hit.id
    new, seen = [], set(ids)
    for row in files:
        if row["sha256"] not in seen:
            seen.add(row["sha256"])
            new.append(row)
    return new, ids




def insert_files(conn: Connection, cid: int, now: datetime, actor: str, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Store new evidence files, each with a ``file_stored`` audit entry; {sha256: id}."""
    f = s.evidence_files
    ids: dict[str, int] = {}
    for row in rows:
        ids[row["sha256"]] = conn.execute(sa.insert(f).values(
            {**row, "campaign_id": cid, "uploaded_by": actor, "uploaded_at": now}).returning(f.c.id)).scalar_one()
    if rows:
        conn.execute(sa.insert(s.audit_log), [audit_row(cid, now, actor, "file_stored", None, {
            "file_name": row["file_name"], "sha256": row["sha256"], "size_bytes": row["size_bytes"],
            "kind": row["kind"], "file_format": row["file_format"], "parser": row["parser"]}) for row in rows])
    return ids


def update_rules(conn: Connection, cid: int, now: datetime, actor: str, files: list[dict[str, Any]],
                 written: dict[str, str]) -> int:
    """Give a stored file the rule of this write where the write records values from it
    (``written``: their SHA-256 and the experiment's id) under another rule: a correction of a cycling file's cell with
    another active mass. The stored rule is then the one behind the current values; the old one
    stays in the audit trail (``file_rule_changed``), as the values it gave stay superseded."""
    f = s.evidence_files
    wanted = {row["sha256"]: row for row in files if row["sha256"] in written}
    changed = 0
    for chunk in chunks(sorted(wanted)):
        for hit in conn.execute(sa.select(f.c.id, f.c.sha256, f.c.file_name, f.c.rule)
                                .where(f.c.campaign_id == cid, f.c.sha256.in_(chunk))):
            new_rule = wanted[hit.sha256]["rule"]
            if json.loads(new_rule) == json.loads(hit.rule):  # (the values: not their text's key order or 12 vs 12.0)
                continue
            conn.execute(sa.update(f).where(f.c.id == hit.id).values(rule=new_rule))
            conn.execute(sa.insert(s.audit_log).values(audit_row(cid, now, actor, "file_rule_changed", written[hit.sha256], {
                "file_name": hit.file_name, "sha256": hit.sha256, "old_rule": json.loads(hit.rule),
                "new_rule": json.loads(new_rule)})))
            changed += 1
    return changed


__all__ = ["insert_files", "prepare_file", "stored_files", "update_rules"]
