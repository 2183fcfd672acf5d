"""Cover posters for the demo world, drawn with Pillow: ours to use, no text, no fonts, no downloads.

Each poster is a field of one of the site's colours with a traditional Chinese motif on it:
祥云 (cloud scrolls), 海水纹 (waves), 窗棂 (lattice window tracery), 冰裂纹 (porcelain crackle), 回纹
(meander border) and 团花 (round medallion). Everything is seeded by the page's slug, so the same
page always gets the same bytes (provisioning stays stable and the test can compare digests).
A 1200×675 JPEG is 25–60 KB; drawing one takes a few tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import io
import math
import random

from PIL import Image, ImageDraw

SIZE = (1200, 675)
MOTIFS = ("clouds", "waves", "lattice", "crackle", "medallion")
MOTIF_NAMES = {"clouds": "祥云", "waves": "海水纹", "lattice": "窗棂", "crackle": "冰裂纹", "medallion": "团花"}
MAX_BYTES = 60 * 1024


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], share: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * share) for x, y in zip(a, b, strict=True))


def _rng(seed: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))  # noqa: S311 - art


def _background(base, light) -> Image.Image:
    """A soft diagonal-free vertical gradient from the colour to a lighter tone (cheap: 1×256 resized)."""
    column = Image.new("RGB", (1, 256))
    column.putdata([_mix(base, light, i / 255 * 0.35) for i in range(256)])
    return column.resize(SIZE, Image.Resampling.BILINEAR)


def _cloud(draw, x, y, r, colour, width):
    """One 祥云 scroll: a spiral head and two curling lobes, open arcs like the carved motif."""
    for k in range(3):
        rr = r * (1 - k * 0.3)
        draw.arc((x - rr, y - rr, x + rr, y + rr), 150 + k * 40, 390 + k * 40, fill=colour, width=width)
    for dx, scale in ((-1.5, 0.7), (1.4, 0.6)):
        cx, rr = x + dx * r, r * scale
        draw.arc((cx - rr, y - rr * 0.3, cx + rr, y + rr * 1.7), 180, 360, fill=colour, width=width)
    draw.line((x - 2.3 * r, y + r * 0.7, x + 2.2 * r, y + r * 0.7), fill=colour, width=width)


def _clouds(draw, rng, ink, soft):
    for _ in range(rng.randint(5, 8)):
        x, y, r = rng.randint(120, SIZE[0] - 120), rng.randint(100, SIZE[1] - 100), rng.randint(45, 100)
        _cloud(draw, x, y, r, rng.choice((ink, ink, soft)), rng.choice((6, 8)))


def _waves(draw, rng, ink, soft):
    """海水纹: rows of nested half circles, each row offset by half a wave."""
    r = rng.choice((60, 70, 80))
    row = 0
    for y in range(SIZE[1] + r, SIZE[1] // 3, -int(r * 0.9)):
        offset = r if row % 2 else 0
        for x in range(-r + offset, SIZE[0] + 2 * r, 2 * r):
            for k in range(3):
                rr = r - k * r // 3
                draw.arc((x - rr, y - rr, x + rr, y + rr), 180, 360, fill=ink if k == 0 else soft, width=5)
        row += 1
    # A sun or moon over the sea.
    cx, cy, rr = rng.randint(200, SIZE[0] - 200), rng.randint(90, 180), rng.randint(50, 80)
    draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), outline=ink, width=6)


def _lattice(draw, rng, ink, soft):
    """窗棂: a grid of window bars with 回-shaped and diagonal infills, framed."""
    step = rng.choice((90, 110, 135))
    for x in range(0, SIZE[0] + step, step):
        draw.line((x, 0, x, SIZE[1]), fill=ink, width=8)
    for y in range(0, SIZE[1] + step, step):
        draw.line((0, y, SIZE[0], y), fill=ink, width=8)
    for x in range(0, SIZE[0], step):
        for y in range(0, SIZE[1], step):
            kind = rng.random()
            m = step // 4
            if kind < 0.4:
                draw.rectangle((x + m, y + m, x + step - m, y + step - m), outline=soft, width=5)
            elif kind < 0.7:
                draw.line((x, y, x + step, y + step), fill=soft, width=4)
                draw.line((x + step, y, x, y + step), fill=soft, width=4)
            else:
                draw.ellipse((x + m, y + m, x + step - m, y + step - m), outline=soft, width=5)
    draw.rectangle((12, 12, SIZE[0] - 13, SIZE[1] - 13), outline=ink, width=14)


def _crackle(draw, rng, ink, soft):
    """冰裂纹 of celadon glaze: cracks wander from scattered points, branching once or twice."""
    for _ in range(26):
        x, y = rng.uniform(0, SIZE[0]), rng.uniform(0, SIZE[1])
        angle = rng.uniform(0, 2 * math.pi)
        for _segment in range(rng.randint(3, 6)):
            length = rng.uniform(60, 160)
            nx, ny = x + length * math.cos(angle), y + length * math.sin(angle)
            draw.line((x, y, nx, ny), fill=rng.choice((ink, soft)), width=rng.choice((2, 3, 4)))
            if rng.random() < 0.4:
                branch = angle + rng.choice((-1, 1)) * rng.uniform(0.6, 1.2)
                draw.line((nx, ny, nx + 70 * math.cos(branch), ny + 70 * math.sin(branch)), fill=soft, width=2)
            x, y, angle = nx, ny, angle + rng.uniform(-0.7, 0.7)


def _medallion(draw, rng, ink, soft):
    """团花: a round flower of petals in rings, with a 回纹 border top and bottom."""
    cx, cy = rng.randint(420, 780), SIZE[1] // 2
    for ring, (radius, petals) in enumerate(((230, 16), (160, 12), (95, 8))):
        colour = ink if ring % 2 == 0 else soft
        for p in range(petals):
            a = 2 * math.pi * p / petals + ring * 0.2
            px, py = cx + radius * 0.65 * math.cos(a), cy + radius * 0.65 * math.sin(a)
            pr = radius * 0.32
            draw.ellipse((px - pr, py - pr, px + pr, py + pr), outline=colour, width=5)
    draw.ellipse((cx - 35, cy - 35, cx + 35, cy + 35), fill=ink)
    _meander(draw, 30, ink)
    _meander(draw, SIZE[1] - 70, ink)


def _meander(draw, top: int, colour) -> None:
    """回纹: a band of squared spirals."""
    unit = 40
    for x in range(0, SIZE[0], unit):
        draw.line((x, top + unit, x, top, x + unit * 0.75, top), fill=colour, width=5)
        draw.line(
            (x + unit * 0.75, top, x + unit * 0.75, top + unit * 0.6, x + unit * 0.3, top + unit * 0.6),
            fill=colour,
            width=5,
        )
        draw.line((x + unit * 0.3, top + unit * 0.6, x + unit * 0.3, top + unit * 0.3), fill=colour, width=5)


_DRAW = {"clouds": _clouds, "waves": _waves, "lattice": _lattice, "crackle": _crackle, "medallion": _medallion}


def poster(seed: str, colours: tuple[str, str], motif: str | None = None) -> bytes:
    """A text-free JPEG poster (SIZE) for `seed` (a page's slug) in the site's `colours`
    (#RRGGBB primary, accent); `motif` one of MOTIFS, or chosen by the seed."""
    rng = _rng(seed)
    motif = motif or rng.choice(MOTIFS)
    base, accent = _rgb(colours[0]), _rgb(colours[1])
    white = (255, 255, 255)
    image = _background(base, white)
    draw = ImageDraw.Draw(image)
    ink, soft = _mix(accent, white, 0.25), _mix(base, white, 0.3)
    _DRAW[motif](draw, rng, ink, soft)
    # Down and up again: anti-aliases the drawn lines (and JPEG likes soft edges) far quicker than a filter.
    image = image.resize((SIZE[0] // 2, SIZE[1] // 2), Image.Resampling.BOX).resize(SIZE, Image.Resampling.BILINEAR)
    for quality in (62, 50, 40):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() <= MAX_BYTES:
            break
    else:  # a very busy pattern: soften it further rather than exceed the budget
        small = (SIZE[0] // 3, SIZE[1] // 3)
        image = image.resize(small, Image.Resampling.BOX).resize(SIZE, Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=40, optimize=True)
    return buffer.getvalue()
