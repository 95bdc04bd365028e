"""A tiny vector scene (boxes, arrows, text) rendered to SVG, or to PNG with Pillow for a quick look.

Text widths are estimated (no font metrics in SVG): boxes wrap their lines at an estimated character width
that is generous for Helvetica/Arial, so the SVG never overflows where the PNG preview (DejaVu, wider) fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from xml.sax.saxutils import escape

FONT = "Helvetica, Arial, sans-serif"
CHAR_WIDTH = 0.6  # of the font size: DejaVu Sans averages ~0.55, Helvetica ~0.5
PNG_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PNG_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float
    title: str
    lines: list[str] = field(default_factory=list)
    fill: str = "#ffffff"
    stroke: str = "#333333"
    dashed: bool = False
    radius: float = 6
    title_size: float = 13
    size: float = 11
    title_top: bool = False  # containers put the title at the top, leaves centre their text

    def side(self, name: str, offset: float = 0) -> tuple[float, float]:
        """Midpoint of a side ("n", "s", "e", "w"), moved along it by `offset`."""
        cx, cy = self.x + self.w / 2, self.y + self.h / 2
        return {"n": (cx + offset, self.y), "s": (cx + offset, self.y + self.h), "w": (self.x, cy + offset),
                "e": (self.x + self.w, cy + offset)}[name]


@dataclass
class Arrow:
    points: list[tuple[float, float]]
    label: str = ""
    color: str = "#333333"
    dashed: bool = False
    label_at: int = 0  # label next to this segment
    label_dx: float = 4
    label_dy: float = -4


@dataclass
class Label:
    x: float
    y: float
    text: str
    size: float = 11
    bold: bool = False
    color: str = "#333333"
    anchor: str = "start"  # "end": x is where the text ends


@dataclass
class Scene:
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    def box(self, *args: object, **kwargs: object) -> Box:
        made = Box(*args, **kwargs)  # type: ignore[arg-type]
        self.boxes.append(made)
        return made


def wrap(text: str, width: float, size: float) -> list[str]:
    limit = max(4, int(width / (size * CHAR_WIDTH)))
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > limit:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def _text_rows(b: Box) -> list[tuple[str, float, bool]]:
    rows = [(t, b.title_size, True) for t in wrap(b.title, b.w - 12, b.title_size)]
    for line in b.lines:
        rows += [(t, b.size, False) for t in wrap(line, b.w - 12, b.size)]
    return rows


def _text_positions(b: Box) -> list[tuple[str, float, bool, float]]:
    rows = _text_rows(b)
    heights = [size * 1.3 for _, size, _ in rows]
    top = b.y + 6 if b.title_top else b.y + (b.h - sum(heights)) / 2
    out, y = [], top
    for (text, size, bold), height in zip(rows, heights, strict=True):
        out.append((text, size, bold, y + size))  # baseline
        y += height
    return out


def _arrow_head(p: tuple[float, float], q: tuple[float, float], size: float = 8) -> list[tuple[float, float]]:
    (x1, y1), (x2, y2) = p, q
    length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-6)
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    return [(x2, y2), (x2 - size * ux - size * 0.45 * uy, y2 - size * uy + size * 0.45 * ux),
            (x2 - size * ux + size * 0.45 * uy, y2 - size * uy - size * 0.45 * ux)]


def _label_anchor(a: Arrow) -> tuple[float, float]:
    i = min(a.label_at, len(a.points) - 2)
    (x1, y1), (x2, y2) = a.points[i], a.points[i + 1]
    return (x1 + x2) / 2 + a.label_dx, (y1 + y2) / 2 + a.label_dy


# --- SVG -----------------------------------------------------------------------------------------------------
def to_svg(scene: Scene) -> str:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" height="{scene.height}" '
           f'viewBox="0 0 {scene.width} {scene.height}" font-family="{FONT}">',
           f'<rect width="{scene.width}" height="{scene.height}" fill="#ffffff"/>']
    for b in scene.boxes:
        dash = ' stroke-dasharray="5 3"' if b.dashed else ""
        out.append(f'<rect x="{b.x:.0f}" y="{b.y:.0f}" width="{b.w:.0f}" height="{b.h:.0f}" rx="{b.radius:.0f}" '
                   f'fill="{b.fill}" stroke="{b.stroke}" stroke-width="1.3"{dash}/>')
        for text, size, bold, baseline in _text_positions(b):
            weight = ' font-weight="bold"' if bold else ""
            out.append(f'<text x="{b.x + b.w / 2:.0f}" y="{baseline:.1f}" font-size="{size:g}" '
                       f'text-anchor="middle"{weight} fill="#1a1a1a">{escape(text)}</text>')
    for a in scene.arrows:
        points = " ".join(f"{x:.0f},{y:.0f}" for x, y in a.points)
        dash = ' stroke-dasharray="6 4"' if a.dashed else ""
        out.append(f'<polyline points="{points}" fill="none" stroke="{a.color}" stroke-width="1.6"{dash}/>')
        head = " ".join(f"{x:.1f},{y:.1f}" for x, y in _arrow_head(a.points[-2], a.points[-1]))
        out.append(f'<polygon points="{head}" fill="{a.color}"/>')
        if a.label:
            x, y = _label_anchor(a)
            out.append(f'<text x="{x:.0f}" y="{y:.0f}" font-size="10.5" fill="{a.color}">{escape(a.label)}</text>')
    for t in scene.labels:
        weight = ' font-weight="bold"' if t.bold else ""
        anchor = ' text-anchor="end"' if t.anchor == "end" else ""
        out.append(f'<text x="{t.x:.0f}" y="{t.y:.0f}" font-size="{t.size:g}"{weight}{anchor} '
                   f'fill="{t.color}">{escape(t.text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _dashes(points: list[tuple[float, float]], on: float, off: float) -> list[list[tuple[float, float]]]:
    """A polyline cut into dashes (`on` long, `off` apart), as SVG's stroke-dasharray draws it."""
    parts: list[list[tuple[float, float]]] = []
    drawn, pen_down = 0.0, True  # length into the current dash or gap
    for (x1, y1), (x2, y2) in pairwise(points):
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-6)
        at = 0.0
        while at < length:
            step = min((on if pen_down else off) - drawn, length - at)
            p = (x1 + (x2 - x1) * at / length, y1 + (y2 - y1) * at / length)
            q = (x1 + (x2 - x1) * (at + step) / length, y1 + (y2 - y1) * (at + step) / length)
            if pen_down:
                parts.append([p, q])
            at, drawn = at + step, drawn + step
            if drawn >= (on if pen_down else off):
                drawn, pen_down = 0.0, not pen_down
    return parts


# --- PNG preview ---------------------------------------------------------------------------------------------
def to_png(scene: Scene, path: Path, scale: float = 1.0) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    def font(size: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(PNG_BOLD if bold else PNG_FONT, round(size * scale))

    def s(p: tuple[float, float]) -> tuple[float, float]:
        return p[0] * scale, p[1] * scale

    image = Image.new("RGB", (round(scene.width * scale), round(scene.height * scale)), "white")
    draw = ImageDraw.Draw(image)
    for b in scene.boxes:
        draw.rounded_rectangle([s((b.x, b.y)), s((b.x + b.w, b.y + b.h))], radius=b.radius * scale,
                               fill=b.fill, outline=b.stroke, width=max(1, round(1.3 * scale)))
        for text, size, bold, baseline in _text_positions(b):
            draw.text(s((b.x + b.w / 2, baseline)), text, font=font(size, bold), fill="#1a1a1a", anchor="ms")
    for a in scene.arrows:
        for part in _dashes(a.points, 6, 4) if a.dashed else [a.points]:
            draw.line([s(p) for p in part], fill=a.color, width=max(1, round(1.6 * scale)))
        draw.polygon([s(p) for p in _arrow_head(a.points[-2], a.points[-1])], fill=a.color)
        if a.label:
            draw.text(s(_label_anchor(a)), a.label, font=font(10.5), fill=a.color, anchor="ls")
    for t in scene.labels:
        draw.text(s((t.x, t.y)), t.text, font=font(t.size, t.bold), fill=t.color,
                  anchor="rs" if t.anchor == "end" else "ls")
    image.save(path)
    return path
