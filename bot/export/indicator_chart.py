"""One indicator's figures by period as a chart (bot.services.indicators.Standing).

matplotlib with the Agg backend, imported only when a chart is drawn (as bot/export/report.py).
Made for a phone: large type, the figure written beside each point, the target a labelled dashed
line, and each point's RAG said by its marker's shape and a letter (R/A/G) as well as its colour
(Okabe–Ito palette), so colour is never the only cue. alt text says the same in words."""
from __future__ import annotations

import io
import textwrap

from bot.services.indicators import rag as rag_of

BLUE, VERMILION, GREEN, ORANGE, GREY = "#0072B2", "#D55E00", "#009E73", "#E69F00", "#8C8C8C"
RAG_STYLE = {"red": (VERMILION, "X", "R"), "amber": (ORANGE, "D", "A"), "green": (GREEN, "o", "G"),
             None: (BLUE, "o", "")}
MAX_POINTS = 12          # the latest periods charted; the table has them all
ALT_LIMIT = 1000


def _figure(value: float, unit: str | None) -> str:
    text = f"{int(value):,}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}%" if unit == "%" else f"{text} {unit}" if unit else text


def charted(st) -> list:
    """The points charted: the latest MAX_POINTS of the latest figure's kind of period."""
    if st.latest is None:
        return []
    kind = st.latest.period.kind
    return [p for p in st.points if p.period.kind == kind][-MAX_POINTS:]


def alt_text(st) -> str:
    ind = st.indicator
    points = charted(st)
    if not points:
        return f"{ind.name}: no figures recorded yet."
    parts = [f"Line chart of {ind.name} by period" + (
        f", against a target of {_figure(ind.target, ind.unit)} ({'lower' if ind.lower_is_better else 'higher'} "
        "is better)." if ind.target is not None else ", no target.")]
    parts.append("; ".join(
        f"{p.period.label} {_figure(p.value, ind.unit)}"
        + (f" {r}" if (r := rag_of(p.value, ind.target, ind.lower_is_better)) else "") for p in points) + ".")
    text = " ".join(parts)
    return text if len(text) <= ALT_LIMIT else text[:ALT_LIMIT - 1].rstrip() + "…"


def draw_indicator_chart(st) -> bytes:
    """The indicator's figures by period as a PNG, 1200 pixels wide."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    ind = st.indicator
    points = charted(st)
    title = textwrap.fill(ind.name, 40)
    lines = title.count("\n") + 1
    top = 0.3 + 0.34 * lines + 0.55           # inches above the plot: the title, then the target line
    width = 8 + 0.7 * max(0, len(points) - 6)
    height = top + 4.4
    fig = Figure(figsize=(width, height), dpi=150)
    fig.patch.set_facecolor("white")
    fig.suptitle(title, fontsize=19, fontweight="bold", x=0.03, ha="left", y=1 - 0.15 / height, va="top")
    ax = fig.add_axes((0.9 / width, 1.25 / height, 1 - 2.1 / width, 1 - (top + 1.25 + 0.2) / height))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if ind.target is not None:
        sub = f"Target {_figure(ind.target, ind.unit)} · {'lower' if ind.lower_is_better else 'higher'} is better"
    else:
        sub = "No target"
    fig.text(0.03, 1 - (0.3 + 0.34 * lines + 0.1) / height, sub, fontsize=15, color="#333333", va="top")
    if not points:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, "No figures yet", ha="center", va="center", fontsize=18, transform=ax.transAxes)
    else:
        xs = list(range(len(points)))
        values = [p.value for p in points]
        ax.plot(xs, values, color="#333333", linewidth=2.5, zorder=2)
        low = min(values + ([ind.target] if ind.target is not None else []))
        high = max(values + ([ind.target] if ind.target is not None else []))
        span = (high - low) or abs(high) or 1
        for x, p in zip(xs, points):
            r = rag_of(p.value, ind.target, ind.lower_is_better)
            colour, marker, letter = RAG_STYLE[r]
            ax.scatter([x], [p.value], s=260, color=colour, marker=marker, edgecolors="#111111", linewidths=1.5,
                       zorder=3)
            label = _figure(p.value, ind.unit) + (f" {letter}" if letter else "")
            ax.annotate(label.replace(" ", "\n", 1) if len(points) > 6 else label, (x, p.value),
                        textcoords="offset points", xytext=(0, 14), ha="center", va="bottom",
                        fontsize=15 if len(points) <= 6 else 13, fontweight="bold", color="#111111")
        if ind.target is not None:
            ax.axhline(ind.target, color=BLUE, linestyle="--", linewidth=2, zorder=1)
            ax.annotate(f"Target\n{_figure(ind.target, ind.unit)}", (1.0, ind.target),
                        xycoords=("axes fraction", "data"), xytext=(6, 0), textcoords="offset points",
                        va="center", ha="left", fontsize=13, color=BLUE, fontweight="bold")
        ax.set_xlim(-0.6, len(points) - 0.4)
        ax.set_ylim(min(0, low - span * 0.15), high + span * (0.3 if len(points) <= 6 else 0.4))
        ax.set_xticks(xs, [p.period.label for p in points], fontsize=13,
                      rotation=30 if len(points) > 4 else 0, ha="right" if len(points) > 4 else "center")
        ax.tick_params(axis="y", labelsize=13)
        ax.set_axisbelow(True)
        ax.grid(axis="y", color="#DDDDDD", linewidth=1, zorder=0)
        if ind.target is not None:
            fig.text(0.03, 0.08 / height, "R red · A amber (within 10% of target) · G green (meets target)", fontsize=12,
                     color="#333333")
    out = io.BytesIO()
    fig.savefig(out, format="png", facecolor="white")
    return out.getvalue()


async def upload_history_chart(ctx, client, st) -> str | None:
    """`/indicator <name> history`: the chart of its figures uploaded to the channel (files upload
    v2, with alt text). None when it went; else a line saying why it didn't (the figures are
    answered all the same)."""
    from bot.core.errors import UserError
    from bot.slack_ui.blocks import escape

    from .upload import upload_to_channel

    if not st.points or not ctx.channel_id:
        return None
    ind = st.indicator
    try:
        await upload_to_channel(
            client, ctx.channel_id, "chart", file=draw_indicator_chart(st),
            filename=f"indicator-{ind.slug[:60]}.png", title=f"{ind.name}: figures by period", alt_txt=alt_text(st),
            initial_comment=f"<@{ctx.user_id}> asked for the figures of *{escape(ind.name)}* by period.")
    except UserError as e:
        return f"{e} The figures are above."
    return None

__all__ = ["alt_text", "charted", "draw_indicator_chart", "upload_history_chart"]
