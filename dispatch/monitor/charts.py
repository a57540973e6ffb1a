"""Chart data for monitor.js: plain dicts, each also described in words (the page's tables carry the numbers)."""
from dispatch.monitor.facts import RATE_LABELS

TOTAL = "合计"
SUMMARY_RATES = ("response_rate", "resolution_rate", "satisfaction_rate")


def bucket_label(bucket, grain):
    """A week by its Monday, a month by its number."""
    return f"{bucket:%m-%d}起" if grain == "week" else f"{bucket:%Y-%m}"


def ranking(table, rate):
    """A horizontal bar per place for one rate, best first (the table's order)."""
    rows = [r for r in table.rows if r["key"] is not None]
    return {"id": "chart-ranking", "kind": "bar", "horizontal": True, "unit": "%",
            "title": f"{RATE_LABELS[rate]}排名", "x": [r["label"] for r in rows],
            "series": [{"name": RATE_LABELS[rate], "data": [r[rate] for r in rows]}]}


def lines(trend, rate, grouped, chart_id):
    """One line per place for a rate (and the total), or the three rates of the whole selection."""
    x = [bucket_label(b, trend.grain) for b in trend.buckets]
    grain = "按周" if trend.grain == "week" else "按月"
    if grouped:
        keys = sorted((k for k in trend.series if k is not None), key=lambda k: str(trend.labels.get(k, k)))
        series = [{"name": trend.labels.get(k, "未指定"), "data": trend.rate_line(k, rate)} for k in keys]
        series.append({"name": TOTAL, "data": trend.total_line(rate)})
        title = f"{RATE_LABELS[rate]}趋势（{grain}）"
    else:
        series = [{"name": RATE_LABELS[r], "data": trend.total_line(r)} for r in SUMMARY_RATES]
        title = f"三率趋势（{grain}）"
    return {"id": chart_id, "kind": "line", "unit": "%", "title": title, "x": x, "series": series}


def volume(trend, chart_id):
    """Tickets opened per bucket."""
    x = [bucket_label(b, trend.grain) for b in trend.buckets]
    grain = "每周" if trend.grain == "week" else "每月"
    return {"id": chart_id, "kind": "bar", "unit": "件", "title": f"{grain}工单数", "x": x,
            "series": [{"name": "工单数", "data": [trend.total(b).get("created", 0) for b in trend.buckets]}]}


def overview(table, weekly, monthly, rate, by):
    """The charts of an overview page, in order."""
    grouped = by is not None
    found = [ranking(table, rate)] if table else []
    found += [lines(weekly, rate, grouped, "chart-weekly"), lines(monthly, rate, grouped, "chart-monthly"),
              volume(weekly, "chart-volume")]
    return found
