"""Draws the two Teams app icons: python edge/assets/make_icons.py (the PNGs are committed).

color.png: 192x192, a white speech bubble holding a network on a full teal square.
outline.png: 32x32, the same mark in pure white on transparent, as Teams requires.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
TEAL = (14, 110, 118, 255)  # also the manifest's accentColor, #0E6E76
WHITE = (255, 255, 255, 255)
SCALE = 8  # draw large, then downsample, for smooth edges

# The mark on a unit square: three care units (nodes) joined in a network.
NODES = [(0.50, 0.20), (0.20, 0.74), (0.80, 0.74)]
EDGES = [(0, 1), (1, 2), (2, 0)]


def draw_network(
    draw: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    node: float,
    line: float,
    fill: tuple[int, int, int, int],
) -> None:
    left, top, right, bottom = box
    span = right - left

    def at(point: tuple[float, float]) -> tuple[float, float]:
        return (left + point[0] * span, top + point[1] * (bottom - top))

    for a, b in EDGES:
        draw.line([at(NODES[a]), at(NODES[b])], fill=fill, width=max(1, round(span * line)))
    radius = span * node
    for point in NODES:
        x, y = at(point)
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=fill)


def color_icon() -> Image.Image:
    """A white speech bubble holding the teal network, on a teal square."""
    big = 192 * SCALE
    image = Image.new("RGBA", (big, big), TEAL)
    draw = ImageDraw.Draw(image)
    u = big / 192
    draw.rounded_rectangle([36 * u, 40 * u, 156 * u, 136 * u], radius=22 * u, fill=WHITE)
    draw.polygon([(58 * u, 128 * u), (52 * u, 160 * u), (90 * u, 132 * u)], fill=WHITE)
    draw_network(draw, (58 * u, 50 * u, 134 * u, 126 * u), node=0.12, line=0.065, fill=TEAL)
    return image.resize((192, 192), Image.Resampling.LANCZOS).convert("RGB")


def outline_icon() -> Image.Image:
    """The network alone, pure white on transparent: Teams rejects any other colour."""
    big = 32 * SCALE
    # Transparent white, so downsampling never mixes a dark fringe into the edges.
    image = Image.new("RGBA", (big, big), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw_network(draw, (big * 0.12, big * 0.10, big * 0.88, big * 0.90), 0.12, 0.08, WHITE)
    small = image.resize((32, 32), Image.Resampling.LANCZOS)
    white = Image.new("RGBA", small.size, (255, 255, 255, 0))
    white.putalpha(small.getchannel("A"))
    return white


def main() -> None:
    color_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
