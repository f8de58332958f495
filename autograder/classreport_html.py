"""The class report as one self-contained HTML page (see ``classreport.py`` for its content).

Figures (``classreport_figures.py``) are embedded as base64 PNG, each with alt
text and a table view; the page loads nothing (no script, font or style sheet from
elsewhere), so it opens offline. Every string that came from a results.json
is HTML-escaped; links to a submission's feedback.md are relative and
percent-encoded. The page is one column at most ~62 rem wide whose tables
wrap their text, so it reads without sideways scrolling on a narrow screen.
"""
from __future__ import annotations

import html
import urllib.parse

from .classreport_figures import MISTAKES_IN_FIGURE, HistogramCanvas, items_png, mistakes_png, short

RETEACH_ROWS = 40         # mistakes shown in "What to re-teach" (all are in report.json)
DETAIL_CHARS = 400        # of each incident detail shown

CSS = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       margin: 0; padding: 0 1rem 3rem; }
main { max-width: 62rem; margin: 0 auto; }
h1 { margin-top: 1.5rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #ddd; }
h3 { margin-top: 1.8rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .45rem; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td:not(.num), tbody th { overflow-wrap: anywhere; }
th { background: #f2f2f2; }
tbody th { min-width: 7rem; }
td.num, th.num { text-align: right; } td.num { white-space: nowrap; }
@media (max-width: 40rem) {
  table { font-size: .8rem; } th, td { padding: .2rem .25rem; } tbody th { min-width: 4.5rem; }
  td.num { white-space: normal; } thead th { overflow-wrap: anywhere; }
}
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .9rem; color: #444; }
details { margin: .4rem 0 1rem; } summary { cursor: pointer; color: #0645ad; }
.lead { font-size: 1.05rem; }
.flag { color: #a40000; font-weight: 600; }
.muted { color: #555; }
code { overflow-wrap: anywhere; }
nav ul { padding-left: 1.2rem; }
"""


def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


def fmt(x, digits=3):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1e3 else f"{x:.0f}"
    return str(x)


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def pct(n, total):
    return f"{100.0 * n / total:.0f} %" if total else "–"


def figure_html(png, alt, caption, table, summary="Table view of this figure"):
    return (f'<figure><img src="data:image/png;base64,{png}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
            f"<details><summary>{esc(summary)}</summary>{table}</details>")


def hist_table(hist, caption):
    rows = []
    edges, counts = hist["edges"], hist["counts"]
    for k, count in enumerate(counts):
        closing = "]" if k == len(counts) - 1 else ")"
        rows.append(f"<tr><td>[{fmt(edges[k])}, {fmt(edges[k + 1])}{closing}</td><td class=num>{count}</td></tr>")
    return (f"<table><caption>{esc(caption)}</caption><thead><tr><th scope=col>points</th>"
            f"<th scope=col class=num>submissions</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def hist_alt(hist, what, stats, graded):
    counts = hist["counts"]
    if not graded or not any(counts):
        return f"Histogram of {what}: no graded submission."
    k = max(range(len(counts)), key=counts.__getitem__)
    return (f"Histogram of {what} for {graded} graded submissions: mean {fmt(stats['mean'])}, median "
            f"{fmt(stats['median'])} of {fmt(stats['max'])} points; {stats['full_marks']} with full marks, "
            f"{stats['zero']} with zero; the most common range is {fmt(hist['edges'][k])} to "
            f"{fmt(hist['edges'][k + 1])} points ({counts[k]} submissions).")


# ------------------------------------------------------------------ sections
def _table(caption, head, rows, numeric=()):
    ths = "".join(f"<th scope=col{' class=num' if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(head))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = " class=num" if i in numeric else ""
            cells.append(f"<th scope=row>{cell}</th>" if i == 0 else f"<td{cls}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table><caption>{esc(caption)}</caption><thead><tr>{ths}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def where(ex_stats):
    if not ex_stats.get("notebook"):
        return "–"
    section = f" § {esc(ex_stats['section'])}" if ex_stats.get("section") else ""
    return f"<code>notebooks/{esc(ex_stats['notebook'])}.ipynb</code>{section}"


def section_reteach(report):
    graded, rows = report["graded"], report["reteach"]
    out = ['<section id="reteach"><h2>What to re-teach</h2>']
    if not rows:
        out.append("<p>No known mistake was named in this batch.</p></section>")
        return "".join(out)
    out.append("<p>Every mistake the grader named, most frequent first: how many graded submissions made "
               "it, what it means, and the notebook section that teaches it. Mistakes marked "
               "<em>(check)</em> were named by a check's own message (randomised exercises); the others "
               "by the mistake probe.</p>")
    sections = [r for r in report.get("sections", []) if r["submissions"]]
    if sections:
        out.append(_table("Notebook sections by how many graded submissions made a named mistake there",
                          ["section", "notebook", "submissions", "most common mistakes"],
                          [[esc(r["section"]) or "–",
                            f"<code>{esc(r['notebook'])}</code>" if r["notebook"] else "–",
                            f"{r['submissions']} ({pct(r['submissions'], graded)})",
                            esc("; ".join(r["top_mistakes"]))] for r in sections], numeric=(2,)))
    out.append(figure_html(
        mistakes_png(rows, graded),
        "Bar chart of the most common mistakes: " + "; ".join(
            f"{r['title']} in {r['exercise']}: {r['count']} submissions" for r in rows[:MISTAKES_IN_FIGURE]),
        f"The {min(len(rows), MISTAKES_IN_FIGURE)} most common mistakes.",
        _table("Most common mistakes", ["mistake", "exercise", "submissions"],
               [[esc(r["title"]), f"<code>{esc(r['exercise'])}</code>", r["count"]]
                for r in rows[:MISTAKES_IN_FIGURE]], numeric=(2,))))
    body = []
    for r in rows[:RETEACH_ROWS]:
        tag = " <em>(check)</em>" if r["source"] == "check" else ""
        body.append([f"{esc(r['title'])}{tag}", f"<code>{esc(r['exercise'])}</code>",
                     f"{r['count']} ({pct(r['count'], graded)})", where(r), esc(r["explanation"])])
    out.append(_table("Named mistakes, most frequent first",
                      ["mistake", "exercise", "submissions", "re-teach in", "what it means"], body, numeric=(2,)))
    if len(rows) > RETEACH_ROWS:
        out.append(f"<p class=muted>{len(rows) - RETEACH_ROWS} rarer mistakes are listed per exercise below "
                   f"and in report.json.</p>")
    out.append("</section>")
    return "".join(out)


def section_scores(report):
    total, graded = report["total"], report["graded"]
    out = ['<section id="scores"><h2>Scores</h2>']
    out.append(figure_html(
        HistogramCanvas((6.4, 2.4)).png(total["histogram"], f"points of {fmt(total['max'])}",
                                        f"Total score ({plural(graded, 'graded submission')})"),
        hist_alt(total["histogram"], "total scores", total, graded),
        f"Total scores: mean {fmt(total['mean'])}, median {fmt(total['median'])} of {fmt(total['max'])}; "
        f"{total['full_marks']} with full marks, {total['zero']} with zero.",
        hist_table(total["histogram"], "Total scores")))
    rows = []
    for ex, s in report["exercises"].items():
        named = {**s["mistakes"], **s["mistakes_seen_by_checks"]}
        top = min(named, key=lambda title: (-named[title], title)) if named else None
        rows.append([f'<a href="#ex-{esc(_anchor(ex))}"><code>{esc(ex)}</code></a>', fmt(s["max"]), fmt(s["mean"]),
                     fmt(s["median"]), f"{s['full_marks']} ({pct(s['full_marks'], s['graded'])})",
                     f"{s['zero']} ({pct(s['zero'], s['graded'])})", s["not_attempted"], esc(top) if top else "–"])
    out.append(_table("Per exercise (graded submissions)",
                      ["exercise", "max", "mean", "median", "full marks", "zero", "not attempted", "top mistake"],
                      rows, numeric=(1, 2, 3, 4, 5, 6)))
    out.append("</section>")
    return "".join(out)


def _anchor(ex):
    return "".join(c if c.isalnum() else "-" for c in ex)


def section_exercises(report):
    out = ['<section id="exercises"><h2>Exercises</h2>']
    canvas = HistogramCanvas((5.6, 1.8), title=False)
    for ex, s in report["exercises"].items():
        out.append(f'<h3 id="ex-{esc(_anchor(ex))}"><code>{esc(ex)}</code></h3>')
        out.append(f"<p>Taught in {where(s)}. Mean {fmt(s['mean'])}, median {fmt(s['median'])} of {fmt(s['max'])} "
                   f"points over {plural(s['graded'], 'graded submission')}; {s['full_marks']} with full marks, "
                   f"{s['zero']} with zero ({s['not_attempted']} not attempted).</p>")
        if s.get("mixed_max"):
            out.append(f"<p class=flag>The submissions disagree on this exercise's points "
                       f"({esc(', '.join(fmt(m) for m in s['mixed_max']))}): graded with different configs?</p>")
        out.append(figure_html(
            canvas.png(s["histogram"], f"points of {fmt(s['max'])} in {ex}"),
            hist_alt(s["histogram"], f"scores on {ex}", s, s["graded"]),
            f"Scores on {ex}.", hist_table(s["histogram"], f"Scores on {ex}")))
        named = [(t, c, "") for t, c in s["mistakes"].items()] + \
                [(t, c, " <em>(check)</em>") for t, c in s["mistakes_seen_by_checks"].items()]
        named.sort(key=lambda x: -x[1])
        if named:
            out.append(_table(f"Named mistakes in {ex}", ["mistake", "submissions", "what it means"],
                              [[esc(t) + tag, f"{c} ({pct(c, s['graded'])})", esc(s["explanations"].get(t, ""))]
                               for t, c, tag in named], numeric=(1,)))
        else:
            out.append("<p class=muted>No named mistake.</p>")
    out.append("</section>")
    return "".join(out)


def section_checks(report):
    rows, th = report["checks"], report["thresholds"]
    out = ['<section id="checks"><h2>Item statistics</h2>',
           "<p><strong>Difficulty</strong> is the mean fraction of a check's points earned (1 = everyone "
           "passes). <strong>Discrimination</strong> is the correlation between a check's fraction and the "
           "total score without that check (corrected item–total, point-biserial for pass/fail checks): near "
           "0 the check says nothing about overall skill; negative means stronger submissions fail it more "
           "often — look at the check. Flags: pass rate ≤ "
           f"{th['nearly_everyone_fails']:.0%} (nearly everyone fails: a bad check, or a topic to re-teach), "
           f"≥ {th['nearly_no_one_fails']:.0%} (nearly no one fails), discrimination < "
           f"{th['negative_discrimination']}; flags need at least {th['min_for_flags']} graded submissions "
           f"({th['min_for_discrimination']} for discrimination).</p>"]
    columns = ["check", "exercise", "n", "difficulty", "pass rate", "discrimination", "flags"]

    def cells(r):
        hidden = " <span class=muted>(hidden)</span>" if r["visibility"] == "hidden" else ""
        return [esc(r["check"]) + hidden, f"<code>{esc(r['exercise'])}</code>", r["n"], fmt(r["difficulty"]),
                fmt(r["pass_rate"]), fmt(r["discrimination"], 2),
                f"<span class=flag>{esc(', '.join(r['flags']))}</span>" if r["flags"] else ""]

    look = [r for r in rows if "nearly everyone fails" in r["flags"] or "negative discrimination" in r["flags"]]
    if look:
        out.append(_table("Checks to look at (nearly everyone fails, or negative discrimination)", columns,
                          [cells(r) for r in look], numeric=(2, 3, 4, 5)))
    else:
        out.append("<p>No check is failed by nearly everyone or has a negative discrimination.</p>")
    every = _table("Every check", columns, [cells(r) for r in rows], numeric=(2, 3, 4, 5))
    plotted = [r for r in rows if r["discrimination"] is not None and r["difficulty"] is not None]
    if plotted:  # the table of every check is the figure's table view
        out.append(figure_html(
            items_png(plotted, th),
            f"Scatter plot of {len(plotted)} checks, difficulty against discrimination: "
            f"{sum(r['discrimination'] < 0 for r in plotted)} with negative discrimination, "
            f"{len(look)} flagged to look at" + (": " + "; ".join(
                f"{r['check']} (difficulty {fmt(r['difficulty'])}, discrimination {fmt(r['discrimination'], 2)})"
                for r in look[:10]) if look else "") + ".",
            "Each dot is a check. Good checks sit high (passing goes with a high total); dots near or below "
            "the dashed line at 0 deserve a look, as do dots at the far left (nearly everyone fails).",
            every, summary=f"Table view of this figure: all {len(rows)} checks"))
    else:
        out.append(f"<details><summary>All {len(rows)} checks</summary>{every}</details>")
    out.append("</section>")
    return "".join(out)


def section_incidents(report):
    incidents = report["incidents"]
    out = ['<section id="incidents"><h2>Incidents: submissions that need a human look</h2>']
    sandbox = report["run"]["sandbox"]
    if "subprocess" in sandbox:
        out.append(f"<p class=flag>{sandbox['subprocess']} submission(s) were graded without namespace isolation "
                   f"(<code>subprocess</code> mode): their code could read the solution on disk — see "
                   f"<code>docs/grading.md</code>.</p>")
    if not incidents:
        out.append("<p>None: every submission was graded without timeout, crash or other incident.</p></section>")
        return "".join(out)
    counts = ", ".join(f"{esc(k)}: {v}" for k, v in report["incident_counts"].items())
    out.append(f"<p>{len(incidents)} submission(s) — {counts}. Each links to its feedback.md.</p>")
    rows = []
    for inc in incidents:
        name = esc(inc["submission"])
        if inc["feedback"]:
            href = urllib.parse.quote("./" + inc["feedback"])
            name = f'<a href="{esc(href)}">{name}</a>'
        details = "".join(f"<li>{esc(short(d, DETAIL_CHARS))}</li>" for d in inc["details"][:8])
        more = f"<li>… {len(inc['details']) - 8} more</li>" if len(inc["details"]) > 8 else ""
        rows.append([name, esc(", ".join(inc["kinds"])), f"<ul>{details}{more}</ul>"])
    out.append(_table("Incidents", ["submission", "what happened", "details"], rows))
    out.append("</section>")
    return "".join(out)


def section_run(report):
    run = report["run"]

    def counts(d):
        return esc(", ".join(f"{k} ({v})" for k, v in d.items())) or "–"

    items = [("grader version", counts(run["grader_version"])), ("seed", counts(run["seed"])),
             ("sandbox", counts(run["sandbox"])),
             ("results written", f"{esc(run['graded_from'])} to {esc(run['graded_to'])} (UTC)"
              if run["graded_from"] else "–"),
             ("submissions", f"{report['submissions']} ({report['graded']} graded, {report['not_graded']} not "
                             f"graded; {report['unreadable']} unreadable results.json)"),
             ("grading time", f"{fmt(run['grading_seconds_total'])} s in all; per submission median "
                              f"{fmt(run['grading_seconds_median'])} s, max {fmt(run['grading_seconds_max'])} s"),
             ("report written", f"{esc(run['report_written'])} (UTC)")]
    if report.get("unknown_exercises_dropped"):
        items.append(("left out", f"{report['unknown_exercises_dropped']} more exercise ids that are not in "
                                  f"config.toml (too many unknown ids to show)"))
    rows = "".join(f"<tr><th scope=row>{k}</th><td>{v}</td></tr>" for k, v in items)
    return (f'<section id="run"><h2>Run</h2><table><caption>Run metadata</caption>'
            f"<tbody>{rows}</tbody></table></section>")


def render_html(report):
    total, graded = report["total"], report["graded"]
    lead = (f"{plural(report['submissions'], 'submission')}: {graded} graded, {report['not_graded']} not graded"
            + (f", {report['unreadable']} with an unreadable results.json" if report["unreadable"] else "")
            + f". Mean {fmt(total['mean'])}, median {fmt(total['median'])} of {fmt(total['max'])} points; "
            f"{total['full_marks']} with full marks. {plural(len(report['incidents']), 'incident')}.")
    nav = ("<nav aria-label=Contents><ul><li><a href='#reteach'>What to re-teach</a></li>"
           "<li><a href='#scores'>Scores</a></li><li><a href='#exercises'>Exercises</a></li>"
           "<li><a href='#checks'>Item statistics</a></li><li><a href='#incidents'>Incidents</a></li>"
           "<li><a href='#run'>Run</a></li></ul></nav>")
    body = "".join([section_reteach(report), section_scores(report), section_exercises(report),
                    section_checks(report), section_incidents(report), section_run(report)])
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<title>Class report: {report['submissions']} submissions</title><style>{CSS}</style></head>"
            f"<body><main><h1>Class report</h1><p class=lead>{esc(lead)}</p>{nav}{body}</main></body></html>\n")
