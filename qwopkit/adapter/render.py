"""rgb_array frames of the bundled game, drawn with Pillow (for env.render() and videos).

The camera follows the torso; the picture shows the ground, a mark every 10 m, the hurdle,
the finish line, the runner's 12 boxes and a one-line HUD. The browser page has its own
canvas renderer; this one exists so that headless training code needs no browser.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from qwopkit.adapter.openqwop import physics as ph

WIDTH, HEIGHT = 640, 400
SCALE = 12.0  # pixels per Box2D unit
SKY, GROUND, MARK, RUNNER, LIMB_EDGE, HURDLE = (
    (222, 236, 246), (120, 86, 60), (250, 250, 250), (214, 170, 130), (60, 40, 30), (200, 40, 40)
)
_SIZES = [(b.width, b.height) for b in ph.BODIES]


def _corners(x: float, y: float, angle: float, w: float, h: float) -> list[tuple[float, float]]:
    c, s = math.cos(angle), math.sin(angle)
    return [(x + c * dx - s * dy, y + s * dx + c * dy)
            for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


def draw_frame(engine) -> np.ndarray:
    """One (HEIGHT, WIDTH, 3) uint8 frame of `engine` (an openqwop Engine)."""
    poses = engine.poses()
    cam_x = poses[0][0]  # torso
    cam_y = ph.GROUND_TOP_Y - 12.0

    def to_px(x: float, y: float) -> tuple[float, float]:
        return (WIDTH / 2 + (x - cam_x) * SCALE, HEIGHT / 2 + (y - cam_y) * SCALE)

    img = Image.new("RGB", (WIDTH, HEIGHT), SKY)
    draw = ImageDraw.Draw(img)
    ground_px = to_px(0, ph.GROUND_TOP_Y)[1]
    draw.rectangle([0, ground_px, WIDTH, HEIGHT], fill=GROUND)
    half_view = WIDTH / 2 / SCALE
    first_mark = int(math.floor((cam_x - half_view) / 100.0)) * 100
    for mark_x in range(first_mark, int(cam_x + half_view) + 100, 100):  # every 10 m
        px = to_px(mark_x, 0)[0]
        draw.line([px, ground_px, px, ground_px + 12], fill=MARK, width=2)
        draw.text((px + 3, ground_px + 14), f"{mark_x // 10} m", fill=MARK)
    finish_px = to_px(ph.FINISH_X, 0)[0]
    draw.line([finish_px, ground_px - 200, finish_px, ground_px], fill=MARK, width=3)
    for (x, y, a), (w, h) in zip(engine.hurdle_poses(), (ph.HURDLE_BASE[:2], ph.HURDLE_BAR[:2])):
        draw.polygon([to_px(*p) for p in _corners(x, y, a, w, h)], fill=HURDLE)
    for (x, y, a), (w, h) in zip(poses, _SIZES):
        draw.polygon([to_px(*p) for p in _corners(x, y, a, w, h)], fill=RUNNER, outline=LIMB_EDGE)
    keys = "".join(k if engine.keys & bit else "-" for k, bit in zip("QWOP", (1, 2, 4, 8)))
    draw.text((10, 10), f"{engine.distance:6.1f} m   {engine.hud_time:6.1f} s   {keys}   "
              f"{engine.status}", fill=(20, 20, 20))
    return np.asarray(img)
