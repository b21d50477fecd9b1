"""The campaign pages as HTML with inline SVG: drawn on the server, nothing fetched at run time,
light and dark from the reader's ``prefers-color-scheme``. Phones go through the one masking
rule (``gateway._privacy.shown_phone``); the ledger URL only as the summary holds it (without
credentials)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from ..gateway._privacy import shown_phone
from ..ledger._campaigns import Campaign, CampaignPage

STATE_ORDER = ("deliver", "read", "partly_deliver", "not_deliver", "expired", "undeliverable",
               "error")  # fmt: skip

CSS = """
:root{--bg:#ffffff;--fg:#1a202c;--muted:#5a6578;--line:#d9dee7;--card:#f6f8fb;--accent:#2b6cb0;
--ok:#2f855a;--warn:#b7791f;--bad:#c53030;--info:#3182ce;--bar:#90cdf4;color-scheme:light dark}
@media (prefers-color-scheme: dark){:root{--bg:#141a23;--fg:#e6e9ef;--muted:#9aa5b5;
--line:#2f3a4a;--card:#1c2430;--accent:#7fb3ff;--ok:#68d391;--warn:#f6c66b;--bad:#fc8181;
--info:#63b3ed;--bar:#2c5282}}
*{box-sizing:border-box}body{margin:0;padding:16px 20px;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--accent)}h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;width:100%}th,td{padding:6px 8px;border-bottom:1px solid
var(--line);text-align:left;vertical-align:top}th{color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 4px}.tile{background:var(--card);
border:1px solid var(--line);border-radius:8px;padding:8px 12px;min-width:120px}
.tile b{display:block;font-size:20px;font-variant-numeric:tabular-nums}.tile span{color:
var(--muted)}.muted{color:var(--muted)}.badge{border-radius:10px;padding:1px 8px;font-size:12px;
border:1px solid currentColor}.s-done{color:var(--ok)}.s-waiting{color:var(--info)}
.s-sending{color:var(--warn)}.s-failed{color:var(--bad)}
form.filters{display:flex;gap:8px;align-items:end;flex-wrap:wrap;margin-bottom:12px}
form.filters label{display:flex;flex-direction:column;color:var(--muted);font-size:12px}
input,select,button{font:inherit;color:var(--fg);background:var(--card);border:1px solid
var(--line);border-radius:6px;padding:4px 8px}.grid{display:grid;grid-template-columns:
repeat(auto-fit,minmax(420px,1fr));gap:16px}.card{background:var(--card);border:1px solid
var(--line);border-radius:8px;padding:10px 14px}svg text{fill:var(--fg);font-size:12px}
svg .axis{stroke:var(--line)}svg .bar{fill:var(--bar)}svg .k-deliver,svg .k-read{fill:var(--ok)}
svg .k-not_deliver,svg .k-undeliverable,svg .k-error{fill:var(--bad)}svg .k-expired{fill:
var(--warn)}
svg .k-partly_deliver{fill:var(--info)}.wide{grid-column:1/-1}
svg .d-final{fill:var(--info)}svg .d-deliver{fill:var(--ok)}.scroll{overflow-x:auto}
svg .k-pending{fill:var(--line)}svg .l-final{stroke:var(--info);fill:none;
stroke-width:2}svg .l-deliver{stroke:var(--ok);fill:none;stroke-width:2}
.pager{margin-top:10px;display:flex;gap:12px}code{font-size:12px}
"""


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


def _n(value: int) -> str:
    return f"{value:,}"


def _q(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return iso


def _badge(status: str) -> str:
    return f'<span class="badge s-{escape(status)}">{escape(status)}</span>'


def _states_text(states: dict[str, int]) -> str:
    keys = [k for k in STATE_ORDER if k in states] + sorted(set(states) - set(STATE_ORDER))
    return ", ".join(f"{escape(k)} {_n(states[k])}" for k in keys) or "—"


def _channels_text(by_channel: dict[str, dict[str, int]]) -> str:
    return (
        "".join(
            f"<div><b>{escape(c)}</b> {_states_text(states)}</div>"
            for c, states in by_channel.items()
        )
        or "—"
    )


DELIVERED = ("deliver", "read", "link", "unsubscribe")
"""A channel's own states that mean it delivered (Viber's read, link and unsubscribe too)."""


def _cost_text(costs: dict[str, str]) -> str:
    return ", ".join(f"{escape(c)} {escape(v)}" for c, v in costs.items()) or "—"


def _campaign_link(c: Campaign) -> str:
    f = c.first
    return "campaign?" + _q(dag_id=f["dag_id"], run_id=f["run_id"], task_id=f["task_id"])


# -- the list ------------------------------------------------------------------------------
def campaigns_page(
    result: CampaignPage,
    statuses: dict[tuple[str, str, str], str],
    *,
    dag_id: str | None,
    since: str | None,
    until: str | None,
) -> str:
    options = "".join(
        f'<option value="{escape(d)}"{" selected" if d == dag_id else ""}>{escape(d)}</option>'
        for d in result.dags
    )
    rows = []
    for c in result.rows:
        f = c.first
        shards = f" ({len(c.shards)} shards)" if len(c.shards) > 1 else ""
        status = statuses.get((f["dag_id"], f["run_id"], f["task_id"]), c.status())
        rows.append(
            "<tr>"
            f"<td>{escape(_when(c.started))}</td><td>{escape(f['dag_id'])}</td>"
            f'<td><a href="{escape(_campaign_link(c))}">{escape(f["run_id"])}</a></td>'
            f"<td>{escape(f['task_id'])}{shards}</td>"
            f'<td class="n">{_n(c.recipients)}</td>'
            f'<td class="n">{_n(c.total("send", "accepted"))}</td>'
            f'<td class="n">{_n(c.total("send", "rejected"))}</td>'
            f'<td class="n">{_n(c.total("send", "untracked"))}</td>'
            f"<td>{_states_text(c.by_state())}</td><td>{_channels_text(c.by_channel_state())}</td>"
            f"<td>{_cost_text(c.cost_by_channel())}</td>"
            f"<td>{_badge(status)}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>Started</th><th>DAG</th><th>Run</th><th>Send task</th>"
        '<th class="n">Recipients</th><th class="n">Accepted</th><th class="n">Rejected</th>'
        '<th class="n">Untracked</th><th>Final states</th><th>Final states by channel</th>'
        "<th>Cost by channel</th><th>Status</th></tr></thead><tbody>"
        + ("".join(rows) or '<tr><td colspan=12 class="muted">No campaigns.</td></tr>')
        + "</tbody></table>"
    )
    pager = []
    base = dict(dag_id=dag_id, since=since, until=until)
    if result.offset > 0:
        prev = max(0, result.offset - result.limit)
        pager.append(f'<a href="campaigns?{escape(_q(**base, offset=prev))}">&larr; Newer</a>')
    end = result.offset + len(result.rows)
    pager.append(
        f'<span class="muted">{_n(result.offset + 1 if result.rows else 0)}–{_n(end)} of '
        f"{_n(result.matching)}</span>"
    )
    if end < result.matching:
        pager.append(f'<a href="campaigns?{escape(_q(**base, offset=end))}">Older &rarr;</a>')
    form = (
        '<form class="filters" method="get" action="campaigns">'
        f'<label>DAG<select name="dag_id"><option value="">all</option>{options}</select></label>'
        f'<label>From<input type="date" name="since" value="{escape(since or "")}"></label>'
        f'<label>To<input type="date" name="until" value="{escape(until or "")}"></label>'
        "<button type=submit>Filter</button></form>"
    )
    body = f"<h1>Cascade campaigns</h1>{form}{table}<div class=pager>{''.join(pager)}</div>"
    return page("Cascade campaigns", body)


# -- one campaign --------------------------------------------------------------------------
def _bars(rows: Sequence[tuple[str, float, str, str]], width: int = 420) -> str:
    """Horizontal bars: (label, value, shown value, class), scaled to the largest."""
    top = max([v for _, v, _, _ in rows] + [1e-9])
    h = 26
    parts = []
    for i, (label, value, shown, cls) in enumerate(rows):
        w = 0 if top <= 0 else (width - 170) * value / top
        y = i * h
        parts.append(
            f'<text x="0" y="{y + 17}">{escape(label)}</text>'
            f'<rect class="{cls}" x="110" y="{y + 4}" width="{w:.1f}" height="18" rx="3"/>'
            f'<text x="{115 + w:.1f}" y="{y + 17}">{escape(shown)}</text>'
        )
    return (
        f'<svg role="img" width="{width}" height="{len(rows) * h + 4}" '
        f'viewBox="0 0 {width} {len(rows) * h + 4}">{"".join(parts)}</svg>'
    )


def funnel_svg(c: Campaign) -> str:
    states = c.by_state()
    delivered = states.get("deliver", 0) + states.get("read", 0)
    final = sum(states.values())
    rows = [
        ("recipients", c.recipients, _n(c.recipients), "bar"),
        ("accepted", c.total("send", "accepted"), _n(c.total("send", "accepted")), "bar"),
        ("final", final, _n(final), "bar"),
        ("delivered", delivered, _n(delivered), "bar k-deliver"),
    ]
    return _bars([(a, float(b), s, k) for a, b, s, k in rows])


def channels_html(c: Campaign) -> str:
    """Delivered per channel (bars), then every channel's own final states (a table)."""
    by_channel = c.by_channel_state()
    if not by_channel:
        return '<p class="muted">No final states yet.</p>'
    delivered = [(ch, sum(n for st, n in states.items() if st in DELIVERED))
                 for ch, states in by_channel.items()]  # fmt: skip
    bars = _bars([(f"via {ch}", float(n), _n(n), "bar k-deliver") for ch, n in delivered])
    names = [k for k in STATE_ORDER if any(k in s for s in by_channel.values())]
    names += sorted({k for s in by_channel.values() for k in s} - set(names))
    head = "".join(f'<th class="n">{escape(k)}</th>' for k in names)
    body = "".join(
        f"<tr><td>{escape(ch)}</td>"
        + "".join(f'<td class="n">{_n(states.get(k, 0))}</td>' for k in names)
        + "</tr>"
        for ch, states in by_channel.items()
    )
    table = (f'<div class="scroll"><table><thead><tr><th>channel</th>{head}</tr></thead>'
             f"<tbody>{body}</tbody></table></div>")  # fmt: skip
    return bars + table


def cost_svg(c: Campaign) -> str:
    costs = c.cost_by_channel()
    if not costs:
        return '<p class="muted">No prices yet (they come with final states).</p>'
    return _bars([(ch, float(Decimal(v)), v, "bar") for ch, v in costs.items()])


def states_svg(c: Campaign) -> str:
    states = c.by_state()
    pending = max(0, c.total("send", "accepted") - sum(states.values()))
    rows = [(k, float(v), _n(v), f"k-{k}") for k, v in states.items()]
    if pending:
        rows.append(("not final", float(pending), _n(pending), "k-pending"))
    if not rows:
        return '<p class="muted">No states yet.</p>'
    return _bars(rows)


def timeline_svg(c: Campaign, width: int = 420, height: int = 160) -> str:
    """Final and delivered messages over time, from the wait's snapshots (all shards)."""
    points: list[tuple[datetime, int, int, int]] = []
    for shard, s in enumerate(c.shards):
        for at, final, by_state in (s.get("wait") or {}).get("snapshots") or []:
            delivered = int(by_state.get("deliver", 0)) + int(by_state.get("read", 0))
            points.append((datetime.fromisoformat(at), shard, int(final), delivered))
    if not points:
        return '<p class="muted">The wait has not reported yet.</p>'
    latest: dict[int, tuple[int, int]] = {}  # several shards: their latest values add up
    series: list[tuple[float, int, int]] = []
    for at, shard, final, delivered in sorted(points):
        latest[shard] = (final, delivered)
        series.append((at.timestamp(), sum(v[0] for v in latest.values()),
                       sum(v[1] for v in latest.values())))  # fmt: skip
    t0, t1 = series[0][0], series[-1][0]
    top = max(max(p[1] for p in series), c.total("send", "accepted"), 1)
    left, bottom = 50, height - 22

    def xy(t: float, v: int) -> str:
        x = left + (width - left - 10) * ((t - t0) / (t1 - t0) if t1 > t0 else 1.0)
        return f"{x:.1f},{bottom - (bottom - 10) * v / top:.1f}"

    final_line = " ".join(xy(t, f) for t, f, _ in series)
    deliver_line = " ".join(xy(t, d) for t, _, d in series)
    dots = "".join(
        f'<circle class="{cls}" cx="{xy(t, v).split(",")[0]}" cy="{xy(t, v).split(",")[1]}" r="3"/>'
        for t, f, d in series[-1:]
        for cls, v in (("d-final", f), ("d-deliver", d))
    )
    span = f"{t1 - t0:.0f} s" if t1 > t0 else "one snapshot"
    return (
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}"/>'
        f'<line class="axis" x1="{left}" y1="10" x2="{left}" y2="{bottom}"/>'
        f'<text x="0" y="16">{_n(top)}</text><text x="0" y="{bottom}">0</text>'
        f'<text x="{left}" y="{height - 4}">{escape(span)}</text>'
        f'<polyline class="l-final" points="{final_line}"/>'
        f'<polyline class="l-deliver" points="{deliver_line}"/>{dots}'
        f'<text x="{width - 150}" y="{height - 4}">— final — delivered</text></svg>'
    )


def _sample_phone(value: str, masked: bool) -> str:
    """A sample entry is a phone, ``base <id>``, or ``<phone>: <reason>``."""
    head, sep, reason = value.partition(": ")
    if head.isdigit():
        head = shown_phone(head, masked)
    return head + sep + reason


def samples_html(c: Campaign) -> str:
    masked = c.masked
    untracked = [s for sh in c.shards for s in (sh.get("send") or {}).get("untracked_sample", [])]
    rejected = [s for sh in c.shards for s in (sh.get("send") or {}).get("first_errors", [])]
    out = []
    for title, items in (("Rejected (first errors)", rejected), ("Untracked", untracked)):
        shown = "".join(f"<li><code>{escape(_sample_phone(str(i), masked))}</code></li>"
                        for i in items[:20])  # fmt: skip
        out.append(f"<h3>{title}</h3>" + (f"<ul>{shown}</ul>" if shown else
                                           '<p class="muted">none</p>'))  # fmt: skip
    note = "phones masked" if masked else "masking is off"
    head = f'<h2>Samples <span class="muted">({note})</span></h2>'
    return f'<div class="card">{head}{"".join(out)}</div>'


def _airflow_links(c: Campaign, ui_base: str) -> str:
    f = c.first
    dag, run, task = (quote(str(f[k]), safe="") for k in ("dag_id", "run_id", "task_id"))
    run_url = f"{ui_base}/dags/{dag}/runs/{run}"
    links = [f'<a target="_top" href="{escape(run_url)}">DAG run</a>']
    for s in c.shards:
        i = int(s["map_index"])
        logs = f"{run_url}/tasks/{task}" + (f"/mapped/{i}" if i >= 0 else "")
        report = "report?" + _q(dag_id=f["dag_id"], run_id=f["run_id"], task_id=f["task_id"],
                                map_index=i)  # fmt: skip
        label = f" (shard {i})" if len(c.shards) > 1 else ""
        links.append(f'<a target="_top" href="{escape(logs)}">task logs{label}</a>')
        links.append(f'<a href="{escape(report)}">report file{label}</a>')
    return " · ".join(links)


def _shard_row(s: dict[str, Any]) -> str:
    send, wait = s.get("send") or {}, s.get("wait") or {}
    cells = [_n(int(send.get("total") or s.get("planned") or 0))] + [
        _n(int(send.get(k) or 0)) for k in ("accepted", "rejected", "untracked")
    ]
    cost = (wait.get("price_totals") or {}).get("total", "—")
    return (
        f"<tr><td>{int(s['map_index'])}</td>"
        + "".join(f'<td class="n">{v}</td>' for v in cells)
        + f"<td>{_states_text(wait.get('by_state') or {})}</td><td>{escape(str(cost))}</td>"
        f"<td>{_badge(Campaign([s]).status())}</td></tr>"
    )


def campaign_html(c: Campaign, status: str, ui_base: str) -> str:
    f = c.first
    states = c.by_state()
    tiles = [
        ("recipients", _n(c.recipients)),
        ("accepted", _n(c.total("send", "accepted"))),
        ("rejected", _n(c.total("send", "rejected"))),
        ("untracked", _n(c.total("send", "untracked"))),
        ("final", _n(sum(states.values()))),
        ("cost total", c.cost_total()),
    ]
    tiles_html = "".join(
        f'<div class="tile" data-metric="{escape(k)}"><b>{escape(v)}</b><span>{escape(k)}</span>'
        "</div>"
        for k, v in tiles
    )
    shard_rows = ""
    if len(c.shards) > 1:
        body = "".join(_shard_row(s) for s in c.shards)
        shard_rows = (
            '<div class="card wide"><h2>Shards</h2><div class="scroll"><table><thead><tr>'
            "<th>Shard</th>"
            '<th class="n">Recipients</th><th class="n">Accepted</th><th class="n">Rejected</th>'
            '<th class="n">Untracked</th><th>Final states</th><th>Cost</th><th>Status</th>'
            f"</tr></thead><tbody>{body}</tbody></table></div></div>"
        )
    return (
        f'<section class="campaign" data-task="{escape(f["task_id"])}">'
        f"<h1>{escape(f['dag_id'])} · {escape(f['task_id'])} {_badge(status)}</h1>"
        f'<p class="muted">run <code>{escape(f["run_id"])}</code> · started '
        f"{escape(_when(c.started))} · {escape(str(f.get('variant', '')).upper())} · ledger "
        f"<code>{escape(str(f.get('ledger', '')))}</code></p>"
        f'<div class="tiles">{tiles_html}</div><p>{_airflow_links(c, ui_base)}</p>'
        '<div class="grid">'
        f'<div class="card"><h2>Funnel</h2>{funnel_svg(c)}</div>'
        f'<div class="card"><h2>Cost by channel</h2>{cost_svg(c)}</div>'
        f'<div class="card"><h2>Final states</h2>{states_svg(c)}</div>'
        f'<div class="card"><h2>Final states over time</h2>{timeline_svg(c)}</div>'
        '<div class="card wide"><h2>Delivered and final states by channel</h2>'
        f"{channels_html(c)}</div>"
        f"{shard_rows}{samples_html(c)}</div></section>"
    )


def campaigns_of_run_page(
    campaigns: Iterable[tuple[Campaign, str]], ui_base: str, empty: str
) -> str:
    sections = [campaign_html(c, status, ui_base) for c, status in campaigns]
    body = "<hr>".join(sections) or f'<p class="muted">{escape(empty)}</p>'
    return page("Cascade campaign", f'<p><a href="campaigns">&larr; All campaigns</a></p>{body}')
