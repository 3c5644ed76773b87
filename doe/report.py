"""The campaign report for the lab meeting: one self-contained HTML page (or a PDF of it).

Sections: progress (counts by status, best so far against the number of experiments), the
best recipes, the Pareto front (several objectives), the model's trust (leave-one-out R² and
RMSE per outcome, in words), the next batch with its predictions and why each recipe was
proposed, and an appendix of every current measurement (who recorded it, when, and the
instrument file it came from), so each number can be traced to its measurement.

Every user string (names, notes, labels, file names) is escaped: the report never renders
user text as HTML. Plots are Plotly figures embedded with Plotly's script inline, so the
file opens without a network. The PDF is that page printed by headless Chromium or Chrome
(found on PATH; ``DOE_CHROMIUM`` names another binary).
"""

from __future__ import annotations

import html
import math
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from doe.domain.diagnostics import model_trust
from doe.domain.display import SIGNIFICANT, format_number, shown_table
from doe.domain.explain import prediction_text, purpose
from doe.domain.records import PENDING_STATUSES
from doe.domain.replicates import CELLS_NOTE, N_SUFFIX, with_summaries
from doe.domain.table import ID_COLUMN
from doe.domain.values import is_missing
from doe.errors import DoeError, ProposalError
from doe.io.writing import write_file
from doe.version import __version__

if TYPE_CHECKING:
    from doe.campaign import Campaign
    from doe.domain.config import CampaignConfig

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _e(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return html.escape(format_number(float(value)))
    return html.escape(str(value))


def _number(value: Any, decimals: int | None = None, significant: int = SIGNIFICANT) -> str:
    return "" if is_missing(value) else format_number(value, decimals, significant)


def _table(frame: pd.DataFrame, config: CampaignConfig | None = None, caption: str | None = None) -> str:
    """``frame`` as an HTML table, its numbers as the app shows them (:func:`shown_table`: each
    parameter of ``config`` at its resolution, other numbers at 4 significant figures)."""
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in shown_table(frame, config).itertuples(index=False, name=None))
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _by_experiment(frame: pd.DataFrame) -> pd.DataFrame:
    """Experiments as columns and their fields as rows (a run sheet's layout; fits the page)."""
    shown = frame.set_index(ID_COLUMN).T.reset_index().rename(columns={"index": "experiment"})
    shown.columns = [str(c) for c in shown.columns]
    return shown


def campaign_report(campaign: Campaign) -> str:
    """The report of ``campaign`` as one self-contained HTML page."""
    import plotly.io as pio

    from doe.plots.figures import best_so_far_figure, pareto_figure

    config = campaign.config
    history = campaign.history()
    completed = history[history["status"] == "completed"]
    counts = history["status"].value_counts()
    parts = [f"<h1>Campaign report: {_e(campaign.name)}</h1>",
             f"<p class='meta'>Made {_e(datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))} by doe "
             f"{_e(__version__)}, configuration version {_e(campaign.config_version)}, database revision "
             f"{_e(campaign.revision())}.</p>",
             "<h2>Progress</h2>",
             "<p>" + ", ".join(f"{_e(s)}: {int(counts.get(s, 0))}" for s in
                               ("completed", "failed", "running", "proposed", "abandoned"))
             + f" (total {len(history)}).</p>"]
    figures = 0  # plotly.js goes inline once, with the first figure

    def figure_html(figure: Any) -> str:
        nonlocal figures
        figures += 1
        return str(pio.to_html(figure, full_html=False, include_plotlyjs="inline" if figures == 1 else False))

    # each figure's HTML goes into its place as it is made: no placeholder that user text could hold
    parts.append(figure_html(best_so_far_figure(history, config)) if len(completed)
                 else "<p>No completed experiment yet.</p>")
    failures = [(str(r[ID_COLUMN]), "", str(r["failure_reason"] or "no reason given"))
                for _, r in history[history["status"] == "failed"].iterrows()]
    failures += [(str(r[ID_COLUMN]), str(r["replicate"]), str(r["failure_reason"]))
                 for _, r in campaign.cell_failures().iterrows()]
    if failures:  # what failed and why, runs and single cells
        parts += ["<h3>Failed runs and cells</h3>",
                  _table(pd.DataFrame(failures, columns=[ID_COLUMN, "cell", "reason"]))]

    parts.append("<h2>Best recipes</h2>")
    best = campaign.best(5)
    if best.empty:
        parts.append("<p>No completed experiment meets the outcome constraints yet.</p>")
    else:
        columns = [ID_COLUMN, *with_summaries(config.outcome_names, best.columns), *config.parameter_names]
        best_shown = best[[c for c in columns if c in best.columns]].dropna(axis=1, how="all")
        if any(c.endswith(N_SUFFIX) for c in best_shown.columns):
            parts.append(f"<p>{_e(CELLS_NOTE)}</p>")
        parts.append(_table(_by_experiment(shown_table(best_shown, config))))
    if len(config.objectives) >= 2 and len(completed):
        x, y = config.objective_names[:2]
        parts += ["<h2>Pareto front</h2>",
                  figure_html(pareto_figure(history, campaign.pareto_front(), x, y, config=config))]

    parts.append("<h2>Can the model be trusted?</h2>")
    try:
        trust = model_trust(campaign.cross_validate(), config)
    except ProposalError as err:
        trust = pd.DataFrame()
        parts.append(f"<p>{_e(err)}</p>")
    if len(trust):
        parts.append("<p>Leave-one-out: each finished experiment predicted by a model fitted without it.</p>")
        # as the Insights page shows them: R² at 2 decimals, the RMSE at 3 significant figures
        parts.append(_table(trust.assign(r2=[_number(v, 2) for v in trust["r2"]],
                                         rmse=[_number(v, significant=3) for v in trust["rmse"]])))

    parts.append("<h2>Next batch</h2>")
    pending = history[history["status"].isin(PENDING_STATUSES)]
    best_id = str(best[ID_COLUMN].iloc[0]) if len(best) else None
    if pending.empty:
        parts.append("<p>Nothing proposed or running.</p>")
    else:
        rows = []
        proposals = campaign.proposals()  # the predictions (and strategy) stored at proposal time
        stored = dict(zip(proposals[ID_COLUMN].astype(str), proposals["predictions"], strict=True))
        for _, row in pending.iterrows():
            predictions = stored.get(str(row[ID_COLUMN])) or {}
            predicted = "; ".join(
                f"{o} {prediction_text(predictions[f'{o}_mean'], predictions.get(f'{o}_sd'), config.unit_of(o))}"
                for o in config.objective_names if predictions.get(f"{o}_mean") is not None)
            chance = predictions.get("probability_feasible")
            rows.append({ID_COLUMN: row[ID_COLUMN], "status": row["status"], "batch": row["batch_id"],
                         **{p: row[p] for p in config.parameter_names}, "predicted at proposal": predicted,
                         "chance it works and meets the constraints": "" if chance is None else f"{chance:.0%}",
                         "why": purpose(pd.Series({**row.to_dict(), **predictions}), completed, best_id, config)})
        parts.append(_table(_by_experiment(shown_table(pd.DataFrame(rows), config))))

    parts.append("<h2>Every measurement behind these numbers</h2>")
    measured = campaign.measurements()
    if measured.empty:
        parts.append("<p>No measurement yet.</p>")
    else:
        shown = measured[["experiment_id", "outcome", "replicate", "cycle", "value", "unit", "recorded_by",
                          "recorded_at", "file_name", "note"]].copy()  # (cycle: a curve point's; empty otherwise)
        shown["recorded_at"] = shown["recorded_at"].dt.strftime("%Y-%m-%d %H:%M UTC")
        parts.append(_table(shown))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(campaign.name)}: doe report"
            f"</title><style>{_STYLE}</style></head><body>{body}</body></html>")


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em}th,td{border:1px solid #ccc;padding:3px 6px;
text-align:left}th{background:#f3f3f3}.meta{color:#666}h2{margin-top:1.6em;border-bottom:1px solid #ddd}"""


def chromium_binary() -> str | None:
    """Chromium or Chrome for printing the PDF (``DOE_CHROMIUM``, else the first on PATH)."""
    named = os.environ.get("DOE_CHROMIUM")
    if named:
        return named
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def write_report(campaign: Campaign, path: str | Path, *, replace: bool = True) -> Path:
    """Write the report as ``.html``, or as ``.pdf`` printed by headless Chromium.

    The file is written whole or not at all (:func:`doe.io.writing.write_file`); with
    ``replace=False`` a file at ``path`` is kept and FileExistsError raised.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise DoeError(f"report file {path.name}: must end in .html or .pdf")
    page = campaign_report(campaign)
    if suffix == ".html":
        return write_file(path, page.encode("utf-8"), replace=replace)
    browser = chromium_binary()
    if browser is None:
        raise DoeError("a PDF report is printed by Chromium or Chrome, and neither is on PATH (set DOE_CHROMIUM); "
                       "the .html report needs nothing")
    with tempfile.TemporaryDirectory(prefix="doe-report-") as folder:
        source, printed = Path(folder) / "report.html", Path(folder) / "report.pdf"
        source.write_text(page, encoding="utf-8")
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                               "--virtual-time-budget=10000", f"--print-to-pdf={printed}", source.as_uri()],
                              capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0 or not printed.is_file() or printed.stat().st_size == 0:
            raise DoeError(f"printing the PDF with {browser} failed: {done.stderr.strip()[-500:]}")
        return write_file(path, printed.read_bytes(), replace=replace)


__all__ = ["campaign_report", "chromium_binary", "write_report"]
