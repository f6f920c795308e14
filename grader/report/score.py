"""The scorecard, recomputed from a report's facts alone: verdicts, integrity findings, contract cases, tampering
attempts and the load index, weighed by the catalogue (`grader/catalogue.toml`). `make compare` calls the same
`assess` on old reports, so a change of weights re-ranks them without re-grading.

- Points: each category's share (`category_weight`) is split among its entries by their `weight`; the load
  index is one more entry of Performance Optimization. A `fixed` entry earns its points, a `present` one
  none; an unverified (inconclusive) or unprobed one leaves both the numerator and the denominator, and the
  score is marked partial. The probes' score is 100 x earned / available.
- Contract: each failed case costs a share of that score by its severity (`contract_cost`); the shares add
  up, and the score never goes below 0.
- Red flags, first in every report: "reports work it did not do" (integrity findings), the app not starting,
  tampering with the grader, the brief's six walk-away signs (present, or "red flag unverified"), failed
  contract cases.
- The band (`strong` | `mixed` | `no hire signal`) is a suggestion for the human review, never a decision:
  see `band` for the rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from grader.catalogue import Catalogue, LoadScore, load_catalogue
from grader.probes import runs_in_quick

STRONG_AT = 80.0
MIXED_AT = 50.0
BANDS = ("strong", "mixed", "no hire signal")
UNVERIFIED = "red flag unverified: "
BAND_NOTE = "a suggestion for the human review, never a decision"
DEFAULT_SEVERITY = "major"  # what CaseResult defaults to; reports written before cases had severities
# Attempts no honest submission makes: as disqualifying as reporting work not done. The other kinds
# (connection-exhaustion, process-escape, other) can be an honest mistake: they cap the band at `mixed`.
DELIBERATE_TAMPERING = frozenset({"control-port", "sql-privilege", "hidden-file", "forged-evidence"})

State = str  # "fixed" | "present" | "unverified" | "not probed" | "not in report"
EARNS = {"fixed": 1.0, "present": 0.0}  # every other state is left out of the score


def load_credit(ratio: float | None, rule: LoadScore) -> float:
    """Credit 0-1 for a slowdown `ratio` (candidate over reference, higher is worse): 1 up to
    `full_credit_within`, 0 from `no_credit_beyond`, linear in log(ratio) between."""
    if ratio is None or math.isnan(ratio):
        return 0.0
    if ratio <= rule.full_credit_within:
        return 1.0
    if ratio >= rule.no_credit_beyond:
        return 0.0
    return 1.0 - math.log(ratio / rule.full_credit_within) / math.log(rule.no_credit_beyond / rule.full_credit_within)


def _points(catalogue: Catalogue) -> dict[str, float]:
    """Each entry's share of the 100 points (the load index under the key "load")."""
    load = catalogue.load_score
    total = sum(catalogue.category_weights.values())
    points: dict[str, float] = {}
    for category in catalogue.categories:
        weights = {bug.id: float(bug.weight) for bug in catalogue.bugs if bug.category == category}
        if load is not None and load.category == category:
            weights["load"] = float(load.weight)
        share = 100.0 * catalogue.category_weights[category] / total
        points |= {key: share * weight / sum(weights.values()) for key, weight in weights.items()}
    return points


def _not_probed(report: Mapping[str, Any], bug_id: str) -> str | None:
    """Why a bug was deliberately not probed (--only, --quick), from the report's options."""
    options = report.get("options") or {}
    if options.get("only") and bug_id not in options["only"]:
        return "--only"
    if options.get("quick"):
        try:
            if not runs_in_quick(bug_id):
                return "--quick"
        except ImportError:
            return None
    return None


def _bug_rows(report: Mapping[str, Any], catalogue: Catalogue, points: Mapping[str, float]) -> list[dict[str, Any]]:
    given = {str(bug.get("id")): bug for bug in report.get("bugs") or []}
    rows = []
    for bug in catalogue.bugs:
        graded = given.get(bug.id)
        reason = ""
        if graded is None:
            state, reason = "not in report", "graded before this catalogue entry existed"
        elif why := _not_probed(report, bug.id):
            state, reason = "not probed", why
        elif graded.get("verdict") in EARNS:
            state = str(graded["verdict"])
        else:
            state, reason = "unverified", str(graded.get("message") or "inconclusive")
        credit = EARNS.get(state)
        rows.append(
            {
                "id": bug.id,
                "title": bug.title,
                "category": bug.category,
                "weight": bug.weight,
                "weight_reason": bug.weight_reason,
                "points": round(points[bug.id], 2),
                "state": state,
                "credit": credit,
                "earned": None if credit is None else round(points[bug.id] * credit, 2),
                "reason": reason,
            }
        )
    return rows


def _load_row(report: Mapping[str, Any], catalogue: Catalogue, points: Mapping[str, float]) -> dict[str, Any] | None:
    rule = catalogue.load_score
    if rule is None:
        return None
    load = report.get("load") or {}
    index = load.get("index") or {}
    row: dict[str, Any] = {
        "id": "load",
        "title": "Latency and throughput under load (the load index)",
        "category": rule.category,
        "weight": rule.weight,
        "weight_reason": rule.weight_reason,
        "points": round(points["load"], 2),
        "curve": f"full credit up to {rule.full_credit_within:g}x the reference's p95 and 1/throughput, "
        f"none from {rule.no_credit_beyond:g}x, log-linear between; the worse of the two counts",
        "p95_index": index.get("p95"),
        "throughput_index": index.get("throughput"),
        "credit": None,
        "earned": None,
    }
    invalid = [str(s.get("name")) for s in load.get("scenarios") or [] if not s.get("valid")]
    if load.get("status") != "ran":
        row |= {"state": "not measured", "reason": f"load skipped ({load.get('reason') or 'did not run'}): left out"}
    elif (load.get("reference") or {}).get("source") == "none" or not any(
        s.get("ratios") for s in load.get("scenarios") or []
    ):
        row |= {"state": "not measured", "reason": "no reference run, so no index: left out"}
    elif not index.get("scenarios") or index.get("p95") is None or index.get("throughput") is None:
        row |= {"state": "invalid", "credit": 0.0, "earned": 0.0}
        row["reason"] = f"no valid scenario ({', '.join(invalid) or 'none'} invalid): invalid runs earn nothing"
    else:
        p95, throughput = float(index["p95"]), float(index["throughput"])
        slowdown = math.inf if throughput <= 0 else 1.0 / throughput
        credit = min(load_credit(p95, rule), load_credit(slowdown, rule))
        row |= {"state": "measured", "credit": credit, "earned": round(points["load"] * credit, 2)}
        row["reason"] = (
            f"p95 {p95:g}x and throughput {throughput:g}x the reference's over {index['scenarios']} valid scenarios"
            + (f"; {', '.join(invalid)} invalid, not counted" if invalid else "")
        )
    return row


def _contract(report: Mapping[str, Any], catalogue: Catalogue, probes_score: float) -> dict[str, Any]:
    contract = report.get("contract")
    if contract is None:
        return {"ran": False, "factor": 0.0, "lost": probes_score, "cases": []}
    cases = []
    for case in contract.get("cases") or []:
        if case.get("outcome") == "passed":
            continue
        severity = str(case.get("severity") or DEFAULT_SEVERITY)
        cost = catalogue.contract_cost.get(severity, catalogue.contract_cost[DEFAULT_SEVERITY])
        cases.append(
            {
                "name": case.get("name"),
                "severity": severity,
                "severity_recorded": "severity" in case,
                "integrity": bool(case.get("integrity")),
                "cost": cost,
                "lost": round(probes_score * cost, 1),
                "message": case.get("message") or "",
            }
        )
    factor = max(0.0, 1.0 - sum(case["cost"] for case in cases))
    return {"ran": True, "factor": round(factor, 4), "lost": round(probes_score * (1 - factor), 1), "cases": cases}


def _integrity(report: Mapping[str, Any], contract: Mapping[str, Any]) -> list[dict[str, str]]:
    evidence = [
        {"source": "probe", "id": str(bug.get("id")), "evidence": str(finding)}
        for bug in report.get("bugs") or []
        for finding in bug.get("integrity") or []
    ]
    evidence += [
        {"source": "contract", "id": str(case["name"]), "evidence": case["message"]}
        for case in contract["cases"]
        if case["integrity"]
    ]
    return evidence


def _brief_flags(
    catalogue: Catalogue, rows: Sequence[Mapping[str, Any]], messages: Mapping[str, str]
) -> list[dict[str, Any]]:
    states = {row["id"]: row["state"] for row in rows}
    present, unverified = [], []
    for flag in catalogue.red_flags:
        hit = [entry for entry in flag.entries if states.get(entry) == "present"]
        unsure = [entry for entry in flag.entries if states.get(entry) == "unverified"]
        if hit:
            message = "; ".join(f"{entry}: {messages.get(entry, '')}" for entry in hit)
            present.append({"id": flag.id, "title": flag.title, "message": message, "state": "present",
                            "entries": hit, "brief": flag.brief})  # fmt: skip
        elif unsure:
            message = "could not be measured: " + ", ".join(unsure)
            unverified.append({"id": flag.id, "title": f"{UNVERIFIED}{flag.title}", "message": message,
                               "state": "unverified", "entries": unsure, "brief": flag.brief})  # fmt: skip
    return present + unverified


def _tampering(report: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """(its red flag, the band it caps at)."""
    attempts = list(report.get("tampering") or [])
    if not attempts:
        return [], None
    named = "; ".join(f"{a.get('what')} ({a.get('seen')}, x{a.get('count', 1)})" for a in attempts[:5])
    deliberate = sorted({str(a.get("kind")) for a in attempts} & DELIBERATE_TAMPERING)
    flag = {"id": "tampering", "title": "Tried to reach what is not the app's (the grader's controls)",
            "message": named, "state": "present", "kinds": sorted({str(a.get("kind")) for a in attempts})}  # fmt: skip
    return [flag], ("no hire signal" if deliberate else "mixed")


def band(overall: float, *, started: bool, integrity: bool, tampering: str | None, flags: Sequence[Mapping[str, Any]],
         partial: bool) -> tuple[str, list[str]]:  # fmt: skip
    """The recommendation and its reasons. From the score: `strong` at 80 or more, `mixed` at 50 or more,
    else `no hire signal`; then caps: integrity findings, deliberate tampering or an app that never started
    give `no hire signal`; a walk-away sign present or unverified, or other tampering, at most `mixed`."""
    reasons: list[str] = []
    if overall >= STRONG_AT:
        shown = "strong"
    elif overall >= MIXED_AT:
        shown = "mixed"
    else:
        shown = "no hire signal"
    reasons.append(f"score {overall:g}: {shown} ({STRONG_AT:g}+ strong, {MIXED_AT:g}+ mixed)")

    def cap(at: str, why: str) -> None:
        nonlocal shown
        reasons.append(f"{why}: at most {at}")
        shown = max(shown, at, key=BANDS.index)

    if not started:
        cap("no hire signal", "the contract did not run (the app did not start): nothing was measured")
    if integrity:
        cap("no hire signal", "reports work it did not do")
    if tampering:
        cap(tampering, "tried to tamper with the grader")
    if present := [str(f["title"]) for f in flags if f.get("state") == "present" and "entries" in f]:
        cap("mixed", f"walk-away sign present: {'; '.join(present)}")
    if unsure := [str(f["title"]).removeprefix(UNVERIFIED) for f in flags if f.get("state") == "unverified"]:
        cap("mixed", f"walk-away sign unverified, a reviewer must check the code: {'; '.join(unsure)}")
    if partial:
        reasons.append("partial: the band rests only on what was measured")
    return shown, reasons


def assess(
    report: Mapping[str, Any], catalogue: Catalogue | None = None, app_error: str | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(report.json's `score` section, its `red_flags`) from the report's facts; no score for a grade that
    errored. `app_error`: why the app never started, when it did not."""
    catalogue = catalogue or load_catalogue()
    points = _points(catalogue)
    rows = _bug_rows(report, catalogue, points)
    load = _load_row(report, catalogue, points)
    entries = rows + ([load] if load else [])
    counted = [row for row in entries if row["credit"] is not None]
    available = sum(points[row["id"]] for row in counted)
    earned = sum(points[row["id"]] * float(row["credit"]) for row in counted)
    probes_score = round(100 * earned / available, 1) if available else 0.0
    contract = _contract(report, catalogue, probes_score)
    overall = round(probes_score * contract["factor"], 1)
    integrity = _integrity(report, contract)
    tampering_flags, tampering_cap = _tampering(report)
    messages = {str(bug.get("id")): str(bug.get("message") or "") for bug in report.get("bugs") or []}
    brief = _brief_flags(catalogue, rows, messages) if contract["ran"] else []
    flags: list[dict[str, Any]] = []
    if integrity:
        shown = "; ".join(f"{item['id']}: {item['evidence']}" for item in integrity)
        flags.append({"id": "integrity", "title": "Reports work it did not do", "message": shown,
                      "state": "present", "evidence": integrity})  # fmt: skip
    if app_error:
        flags.append({"id": "app", "title": app_error, "message": "", "state": "present"})
    flags += tampering_flags + brief
    if failed := len(contract["cases"]):
        flags.append({"id": "contract", "title": f"{failed} contract cases fail", "message": "", "state": "present"})
    if report.get("status") == "error":
        return None, flags
    left_out = [row for row in entries if row["credit"] is None]
    partial = bool(left_out) or not contract["ran"]
    shown_band, reasons = band(overall, started=contract["ran"], integrity=bool(integrity), tampering=tampering_cap,
                               flags=flags, partial=partial)  # fmt: skip
    if not available and contract["ran"]:
        reasons.insert(1, "nothing could be verified: every entry was left out")
    categories = {}
    for category in catalogue.categories:
        mine = [row for row in entries if row["category"] == category]
        have = sum(points[row["id"]] for row in mine if row["credit"] is not None)
        got = sum(points[row["id"]] * float(row["credit"]) for row in mine if row["credit"] is not None)
        categories[category] = {
            "score": round(100 * got / have, 1) if have else 0.0,
            "fixed": sum(row["state"] == "fixed" for row in mine),
            "bugs": sum(row["id"] != "load" for row in mine),
            # scorecard fields (issue 15)
            "weight": catalogue.category_weights[category],
            "points": round(sum(points[row["id"]] for row in mine), 2),
            "earned": round(float(got), 2),
            "measured": have > 0,
        }
    score: dict[str, Any] = {"overall": overall, "uncapped": probes_score, "categories": categories}
    not_probed = [row["id"] for row in rows if row["state"] == "not probed"]
    if not_probed:
        because = next(row["reason"] for row in rows if row["state"] == "not probed")
        score["partial"] = {"not_probed": not_probed, "because": because}
    # --- scorecard (issue 15): everything below is new; the fields above keep their meaning ---
    score["scorecard"] = {
        "catalogue": {"scoring_version": catalogue.scoring_version, "sha256": catalogue.sha256},
        "band": shown_band,
        "band_reasons": reasons,
        "band_note": BAND_NOTE,
        "partial": partial,
        "left_out": [{"id": row["id"], "state": row["state"], "reason": row["reason"]} for row in left_out],
        "probes_score": probes_score,
        "entries": entries,
        "contract": contract,
        "integrity": integrity,
        "tampering": {"attempts": len(report.get("tampering") or []), "caps_band_at": tampering_cap},
    }
    return score, flags


def rank_key(score: Mapping[str, Any] | None, flags: Sequence[Mapping[str, Any]]) -> tuple[Any, ...] | None:
    """Comparison order: honest submissions first (no integrity finding, no deliberate tampering), then the
    band, then the score, then fewer red flags. None: no score to rank."""
    if score is None:
        return None
    card = score.get("scorecard") or {}
    dishonest = bool(card.get("integrity")) or (card.get("tampering") or {}).get("caps_band_at") == "no hire signal"
    return (dishonest, BANDS.index(card.get("band", "no hire signal")), -float(score["overall"]), len(flags))
