"""Pictures of the course for the instructor, drawn on the server as inline SVG (no script, no
``style`` attribute: the pages' Content-Security-Policy allows neither; colours come from
style.css): the distribution of the students' best totals, the pass rate of each section among
the best submissions, and the uploads per hour against the deadline.

Every bar carries its numbers as text (its label, its value, a ``<title>`` tooltip and
``data-label``/``data-value`` attributes), so the charts read without the picture too.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

from pathlib import Path

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 22, 62
BINS = 10                      # bars of the histogram of best totals
MAX_HOURS = 14 * 24            # the uploads chart shows at most the last two weeks, hour by hour


@dataclass
class Bar:
    label: str      # under the bar (may be left out where bars are many)
    value: float    # its height, against the chart's top value
    text: str       # over the bar
    tip: str        # the tooltip


@dataclass
class Chart:
    ident: str
    title: str
    summary: str
    svg: Markup


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip('0').rstrip('.')


def bar_chart(ident: str, title: str, bars: list, top: float, label_every: int = 1, show_text: bool = True,
              marker: Optional[float] = None, marker_label: str = '', top_label: str = '') -> Markup:
    """A vertical bar chart as an ``<svg>`` element; ``marker``: a vertical line at that bar position
    (0 = the first bar's left edge, fractions between bars)."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / max(1, len(bars))
    width = max(1.0, step * 0.8)
    base = TOP + plot_height
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(ident)}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-labelledby="{escape(ident)}-title">',
             f'<title id="{escape(ident)}-title">{escape(title)}</title>',
             f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}"/>',
             f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}"/>',
             f'<text class="tick" x="{LEFT - 4}" y="{base}" text-anchor="end">0</text>',
             f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">'
             f'{escape(top_label or _number(top))}</text>']
    for index, bar in enumerate(bars):
        height = plot_height * min(bar.value, top) / top if top > 0 else 0.0
        x = LEFT + index * step + (step - width) / 2
        centre = x + width / 2
        parts.append(f'<g class="bar" data-label="{escape(bar.label)}" data-value="{_number(bar.value)}">'
                     f'<title>{escape(bar.tip)}</title>'
                     f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" height="{height:.1f}"/>')
        if show_text:
            parts.append(f'<text class="value" x="{centre:.1f}" y="{base - height - 3:.1f}" '
                         f'text-anchor="middle">{escape(bar.text)}</text>')
        if bar.label and index % label_every == 0:
            slant = (f'text-anchor="end" transform="rotate(-30 {centre:.1f} {base + 14})"'
                     if step * label_every < 7 * max(len(b.label) for b in bars) else 'text-anchor="middle"')
            parts.append(f'<text class="label" x="{centre:.1f}" y="{base + 14}" {slant}>{escape(bar.label)}</text>')
        parts.append('</g>')
    if marker is not None:
        x = LEFT + marker * step
        anchor = 'end' if x > WIDTH - RIGHT - 40 else 'start' if x < LEFT + 40 else 'middle'
        parts.append(f'<line class="marker" x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{base}"/>'
                     f'<text class="marker" x="{x:.1f}" y="{TOP - 9}" text-anchor="{anchor}">'
                     f'{escape(marker_label)}</text>')
    parts.append('</svg>')
    return Markup(''.join(parts))


def best_totals_chart(rows: list, max_total: float) -> Chart:
    """How many students have a best total in each tenth of the points (the last bin includes the maximum)."""
    totals = [row.best.total for row in rows if row.best]
    width = max_total / BINS if max_total > 0 else 1.0
    counts = [0] * BINS
    for total in totals:
        counts[min(BINS - 1, max(0, int(total / width + 1e-9)))] += 1
    bars = []
    for index, count in enumerate(counts):
        low, high = index * width, (index + 1) * width
        closing = ']' if index == BINS - 1 else ')'
        bars.append(Bar(f"{_number(low)}", count, str(count) if count else '',
                        f"[{_number(low)}, {_number(high)}{closing}: {count} student{'s' if count != 1 else ''}"))
    ungraded = len(rows) - len(totals)
    summary = (f"{len(totals)} of {len(rows)} students have a graded submission"
               + (f" ({ungraded} without)" if ungraded else '')
               + (f"; best totals from {_number(min(totals))} to {_number(max(totals))} of {_number(max_total)}"
                  if totals else ''))
    return Chart('chart-totals', f"Best totals (of {_number(max_total)} points)", summary,
                 bar_chart('chart-totals', f"Students per best total, of {_number(max_total)} points", bars,
                           max(counts) or 1))


def pass_rate_chart(rows: list, sections: list) -> Chart:
    """The share of students whose best submission passes each section."""
    graded = [row.best for row in rows if row.best]
    bars = []
    for section in sections:
        passed = sum(1 for best in graded for entry in best.report['sections']
                     if entry['name'] == section.name and entry['verdict'] == 'passed')
        rate = 100.0 * passed / len(graded) if graded else 0.0
        bars.append(Bar(section.name, rate, f"{rate:.0f}%",
                        f"{section.number} {section.title}: {passed} of {len(graded)} passed ({rate:.0f}%)"))
    summary = f"among the best submissions of {len(graded)} student{'s' if len(graded) != 1 else ''}"
    return Chart('chart-sections', "Pass rate per section", summary,
                 bar_chart('chart-sections', "Share of students whose best submission passes each section", bars,
                           100.0, top_label='100%'))


def hour_of(moment: datetime, zone) -> datetime:
    return moment.astimezone(zone).replace(minute=0, second=0, microsecond=0)


def uploads_chart(times: list, deadline: Optional[datetime]) -> Chart:
    """Uploads per hour (in the deadline's time zone, else UTC), with the deadline as a line."""
    zone = deadline.tzinfo if deadline else timezone.utc
    if not times:
        return Chart('chart-uploads', "Uploads per hour", "no uploads yet",
                     bar_chart('chart-uploads', "Uploads per hour", [], 1))
    first, last = hour_of(min(times), zone), hour_of(max(times), zone)
    if deadline is not None:
        first, last = min(first, hour_of(deadline, zone)), max(last, hour_of(deadline, zone))
    hours = int((last - first) / timedelta(hours=1)) + 1
    if hours > MAX_HOURS:
        first, hours = last - timedelta(hours=MAX_HOURS - 1), MAX_HOURS
    counts = [0] * hours
    for moment in times:
        index = int((hour_of(moment, zone) - first) / timedelta(hours=1))
        if 0 <= index < hours:
            counts[index] += 1
    bars = [Bar((first + timedelta(hours=i)).strftime('%m-%d %H:00'), count, str(count) if count else '',
                f"{(first + timedelta(hours=i)).strftime('%Y-%m-%d %H:00')}: {count} upload{'s' if count != 1 else ''}")
            for i, count in enumerate(counts)]
    marker = None
    if deadline is not None:
        marker = (deadline.astimezone(zone) - first) / timedelta(hours=1)
        marker = marker if 0 <= marker <= hours else None
    shown = sum(counts)
    late = sum(1 for moment in times if deadline and moment > deadline)
    summary = (f"{len(times)} uploads"
               + (f", {len(times) - shown} before the two weeks shown" if shown < len(times) else '')
               + (f"; {late} after the deadline" if deadline else '') + f"; busiest hour: {max(counts)}")
    return Chart('chart-uploads', "Uploads per hour", summary,
                 bar_chart('chart-uploads', "Uploads per hour" + (" against the deadline" if deadline else ''), bars,
                           max(counts), label_every=max(1, hours // 8), show_text=hours <= 48, marker=marker,
                           marker_label='deadline'))


def gradebook_charts(rows: list, sections: list, upload_times: list, deadline: Optional[datetime]) -> list:
    """The instructor's three charts of the course."""
    max_total = sum(section.points for section in sections)
    return [best_totals_chart(rows, max_total), pass_rate_chart(rows, sections), uploads_chart(upload_times, deadline)]


def report_html(rows: list, sections: list, upload_times: list, deadline: Optional[datetime], title: str) -> str:
    """A page of its own (``./run.py gradebook --html``): the three charts and the students' best totals,
    with the pages' style sheet inside (it is opened from a file, not served)."""
    style = (Path(__file__).resolve().parent / 'static' / 'style.css').read_text()
    figures = ''.join(f'<figure class="chart-figure" id="{chart.ident}-figure">{chart.svg}<figcaption><strong>'
                      f'{escape(chart.title)}</strong>: {escape(chart.summary)}</figcaption></figure>'
                      for chart in gradebook_charts(rows, sections, upload_times, deadline))
    head = ''.join(f'<th class="num">{escape(section.name)}</th>' for section in sections)
    body = ''.join(
        f'<tr><td>{escape(row.student_id)}</td><td>{escape(row.name)}</td><td class="num">{row.submissions}</td>'
        f'<td class="num">{_number(row.best.total) if row.best else ""}</td>'
        + ''.join(f'<td class="num">{_number(row.best.points[s.name]) if row.best and s.name in row.best.points else ""}'
                  '</td>' for s in sections)
        + f'<td>{"late" if row.late else ""}</td></tr>' for row in rows)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<style>{style}</style></head><body><main><h1>{escape(title)}</h1>'
            f'<section class="charts">{figures}</section><table class="list gradebook"><thead><tr><th>student</th>'
            f'<th>name</th><th class="num">uploads</th><th class="num">best</th>{head}<th>late</th></tr></thead>'
            f'<tbody>{body}</tbody></table></main></body></html>\n')
