"""A whole campaign as JSON text (``doe export --out x.json``, ``doe import``)."""

from __future__ import annotations

import json
from typing import Any

from doe.errors import DataError, shorten, shorten_text

MAX_JSON_BYTES = 200_000_000


def campaign_to_json(data: dict[str, Any]) -> str:
    """An exported campaign (see ``CampaignStore.export_campaign``) as JSON text."""
    if not isinstance(data, dict):
        raise DataError(f"a campaign export is a mapping, got {type(data).__name__}")
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, indent=1)
    except (TypeError, ValueError) as err:
        raise DataError(f"the campaign cannot be written as JSON: {err}") from err
    if len(text) > MAX_JSON_BYTES:
        raise DataError(f"the campaign is {len(text) / 1e6:.0f} MB as JSON; at most {MAX_JSON_BYTES / 1e6:.0f} MB")
    return text


def refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's key/value pairs as a dict (``json.loads``'s ``object_pairs_hook``); a key
    given twice raises DataError naming it and both values (``json`` keeps the last, silently: a
    hand-merged export's measurement with two ``value`` keys would import one of them unsaid)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            entry = ", ".join(f"{k} {data[k]!r}" for k in ("experiment_id", "outcome", "replicate", "version")
                              if isinstance(data.get(k), str | int) and k != key)
            raise DataError(f"the key {key!r} is given twice in one entry{f' ({entry})' if entry else ''}, "
                            f"with {shorten(data[key], 80)} and {shorten(value, 80)}; keep the one that is right")
        data[key] = value
    return data


def campaign_from_json(text: str | bytes, *, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """Parse an exported campaign; raises DataError for text that is not one."""
    if len(text) > max_bytes:
        raise DataError(f"the campaign file is larger than {max_bytes / 1e6:.0f} MB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise DataError("the campaign file is not UTF-8 text; is it a doe campaign export (.json)?") from err
    if not text.strip():
        raise DataError("the campaign file is empty")
    try:
        data = json.loads(text, object_pairs_hook=refuse_repeated_keys)
    except json.JSONDecodeError as err:
        raise DataError(f"the campaign file is not valid JSON (line {err.lineno}, column {err.colno}: "
                        f"{err.msg}); is it a doe campaign export?") from err
    except (ValueError, RecursionError) as err:  # a number of over 4300 digits, nesting past the recursion limit
        raise DataError(f"the campaign file is not valid JSON ({shorten_text(str(err), 200)}); "
                        "is it a doe campaign export?") from None
    if not isinstance(data, dict) or data.get("format") != "doe-campaign":
        raise DataError("the file is JSON but not a doe campaign export (no \"format\": \"doe-campaign\")")
    return data
