"""What a refusal says when other writers keep a campaign changing under a computation.

Pure functions of the audit trail's rows: the store names the writes that overtook one
(:func:`latest_writes`), and :meth:`doe.Campaign.suggest` and :meth:`doe.Campaign.record`,
once every try was overtaken, say so and what to do (:func:`overtaken_every_try`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from doe.errors import ConcurrentChangeError, shorten_text


def latest_writes(audit_rows: Iterable[Sequence[Any]], count: int) -> tuple[str, ...]:
    """The latest ``count`` writes of a campaign as ``actor (action)``, newest first, from its
    audit rows ``(at, actor, action, experiment_id)`` newest first; fewer where the audit holds
    fewer.

    The rows of one write share its time and actor, whatever their actions (a ``record()``
    writes ``experiment_created``, ``measurement_added`` and ``status_changed`` rows, then its
    own ``record`` row), so they count as one write. A write is named by its own row, the
    newest of them that names no experiment (``record``, ``suggest``, ``config_version_added``),
    or by its newest row where it has none."""
    writes: list[tuple[Any, Any, Any]] = []  # (at, actor, action naming the write)
    named = False  # whether the current write's name came from its own row
    for at, actor, action, experiment_id in audit_rows:
        if writes and (at, actor) == writes[-1][:2]:
            if experiment_id is None and not named:
                writes[-1], named = (at, actor, action), True
            continue
        if len(writes) >= count:
            break
        writes.append((at, actor, action))
        named = experiment_id is None
    return tuple(f"{shorten_text(actor, 60)} ({action})" for _, actor, action in writes)


def writers_text(writes: Sequence[str]) -> str:
    """``writes`` (:func:`latest_writes`) as a phrase: each writer once, with how many times."""
    counts: dict[str, int] = {}
    for write in writes:
        counts[write] = counts.get(write, 0) + 1
    return ", ".join(w if k == 1 else f"{w} {k} times" for w, k in counts.items())


def overtaken_every_try(error: ConcurrentChangeError, campaign: str, attempts: int,
                        doing: Literal["suggestion", "record"]) -> ConcurrentChangeError:
    """The refusal of a ``suggest()`` or ``record()`` whose every one of ``attempts`` tries
    was overtaken by another write (``error``: the last try's, from the store)."""
    last = ""
    if error.revisions is not None:
        last = f" (the last: revision {error.revisions[0]} -> {error.revisions[1]}"
        last += f", written by {writers_text(error.writes)})" if error.writes else ")"
    what = "computed this suggestion" if doing == "suggestion" else "checked this table against what is stored"
    return ConcurrentChangeError(
        f"campaign {campaign!r} changed while doe {what}, on each of its {attempts} tries{last}; nothing was "
        f"written. Run it again: writes every few seconds or faster (robots recording, others suggesting) can keep "
        f"a {doing} from landing, so pause them while it runs if it is refused again",
        revisions=error.revisions, writes=error.writes)


__all__ = ["latest_writes", "overtaken_every_try", "writers_text"]
