"""The summary chart for the paper: recommendations by status, and open ones by RAG.

Drawn with Pillow rather than matplotlib: two bar panels need only a few rectangles
and labels, and Pillow is small, needs no numpy and draws the same pixels on every
machine, where matplotlib would bring a large dependency tree and a font cache to
build on first use, which would stall the first export a committee asks for."""
from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from .content import PositionPaper

WIDTH = 1800                       # pixels; placed 16 cm wide in the DOCX (about 285 dpi)
ROW = 80                           # pixels per bar
INK = (33, 33, 33)
MUTED = (110, 110, 110)
RULE = (200, 200, 200)
STATUS_FILL = (31, 78, 121)        # a sober council blue
RAG_FILL = {"red": (192, 0, 0), "amber": (237, 161, 0), "green": (0, 150, 80)}
_FONT_FILES = {
    False: ("LiberationSans-Regular.ttf", "DejaVuSans.ttf", "Arial.ttf", "arial.ttf"),
    True: ("LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf"),
}
_FONT_DIRS = ("", "/usr/share/fonts/truetype/liberation/", "/usr/share/fonts/truetype/dejavu/",
              "/usr/share/fonts/TTF/", "/Library/Fonts/", "C:/Windows/Fonts/")


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.ImageFont:
    """Arial's metric twin (Liberation Sans) or DejaVu where installed; else Pillow's own."""
    for name in _FONT_FILES[bold]:
        for folder in _FONT_DIRS:
            try:
                return ImageFont.truetype(folder + name, size)
            except OSError:
                continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _text_width(draw: ImageDraw.ImageDraw, text: str, font) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    return right - left


def _panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str,
           bars: list[tuple[str, int, tuple[int, int, int]]]) -> None:
    """A titled horizontal bar chart inside box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    label_font, count_font = _font(34), _font(34, True)
    size = 40
    while size > 24 and _text_width(draw, title, _font(size, True)) > x1 - x0:
        size -= 2       # a long title shrinks to fit its panel rather than run off the image
    title_font = _font(size, True)
    draw.text((x0, y0), title, font=title_font, fill=INK)
    top = y0 + 80
    if not bars:
        draw.text((x0, top), "None", font=label_font, fill=MUTED)
        return
    label_w = max(_text_width(draw, label, label_font) for label, _, _ in bars) + 24
    count_w = 90
    bar_x0 = x0 + label_w
    span = max(1, x1 - bar_x0 - count_w)
    most = max(1, max(n for _, n, _ in bars))
    row_h = ROW
    bar_h = int(row_h * 0.62)
    draw.line([(bar_x0, top - 8), (bar_x0, top + row_h * len(bars))], fill=RULE, width=3)
    for i, (label, count, fill) in enumerate(bars):
        y = top + i * row_h
        mid = y + bar_h // 2
        draw.text((bar_x0 - 24, mid), label, font=label_font, fill=INK, anchor="rm")
        length = round(span * count / most)
        if length:
            draw.rectangle([bar_x0, y, bar_x0 + length, y + bar_h], fill=fill)
        draw.text((bar_x0 + length + 16, mid), str(count), font=count_font, fill=INK, anchor="lm")


def render_chart(paper: PositionPaper) -> bytes:
    """A PNG: counts by status on the left, RAG of the open recommendations on the right."""
    statuses = [(s[:1].upper() + s[1:], n, STATUS_FILL) for s, n in paper.status_counts.items()]
    rags = [(r.capitalize(), n, RAG_FILL[r]) for r, n in paper.rag_counts.items()]
    height = 30 + 80 + ROW * max(len(statuses), len(rags), 1) + 20
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    open_count = sum(n for _, n, _ in rags)
    _panel(draw, (40, 30, 1000, height - 30), f"Recommendations by status ({len(paper.rows)})", statuses)
    _panel(draw, (1080, 30, WIDTH - 40, height - 30), f"RAG of open recommendations ({open_count})",
           rags if open_count else [])
    draw.line([(1040, 40), (1040, height - 30)], fill=RULE, width=2)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
