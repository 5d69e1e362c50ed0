"""Fast reads of body state: numpy views onto Box2D's own b2Body memory.

Reading 12 bodies through pybox2d's SWIG getters costs ~15 us (each getter builds a Python
object), more than a physics step; training wants tens of thousands of actions per second.
A b2Body in Box2D 2.3 starts with a fixed layout of 32-bit fields, and a world's bodies live in
one chunk of its block allocator, so one float32 view over that chunk plus a precomputed index
reads every position, angle and velocity in a single numpy gather, with the same float32 values
the getters return.

This depends on the compiled library's memory layout, so it is never trusted blindly: the first
view of a process is checked field by field against the SWIG getters (`BodyView.verify`), every
view checks that its bodies share one allocator chunk, and the engine falls back to the getters
(with one warning) if anything differs.
"""

from __future__ import annotations

import ctypes
import warnings

import numpy as np

# Offsets, in float32 words from the start of a b2Body (Box2D 2.3: m_type, m_flags, m_islandIndex,
# m_xf.p, m_xf.q, m_sweep.localCenter, .c0, .c, .a0, .a, .alpha0, m_linearVelocity, m_angularVelocity).
X, Y, ANGLE, VX, VY, OMEGA = 3, 4, 14, 16, 17, 18
FIELDS = (X, Y, ANGLE, VX, VY, OMEGA)
_WORDS = OMEGA + 1
_MAX_SPAN = 1 << 16  # bytes; a block allocator chunk is 16 KiB, so a larger span means no chunk


class BodyView:
    """Reads (x, y, angle, vx, vy, omega) of `bodies` as one float64 array of shape (n, 6)."""

    def __init__(self, world, bodies) -> None:
        self._world = world  # the memory is the world's: keep it alive as long as the view
        self.bodies = list(bodies)
        addresses = [int(b.this) for b in self.bodies]
        base = min(addresses)
        span = max(addresses) - base + 4 * _WORDS
        if span > _MAX_SPAN or any((a - base) % 4 for a in addresses):
            raise ValueError("bodies are not in one allocator chunk")
        buffer = (ctypes.c_float * (span // 4)).from_address(base)
        self._memory = np.ctypeslib.as_array(buffer)
        # For single values a memoryview is ~5x cheaper than numpy indexing.
        self.scalars = memoryview(buffer).cast("B").cast("f")
        starts = np.array([(a - base) // 4 for a in addresses])
        self._index = (starts[:, None] + np.array(FIELDS)[None, :]).ravel()

    def read(self) -> np.ndarray:
        return self._memory[self._index].astype(np.float64).reshape(-1, len(FIELDS))

    def read_into(self, out: np.ndarray) -> None:
        """Write the (n * 6,) values into the float64 array `out` (no temporary)."""
        out[...] = self._memory[self._index]  # the assignment widens float32 to float64

    def locate(self, body: int, field: int) -> int:
        """Where body `body`'s field (an index into FIELDS) lives: `scalars[locate(...)]`."""
        return int(self._index[body * len(FIELDS) + field])

    def verify(self) -> bool:
        """True when every value equals what pybox2d's getters return.

        At a spawn every velocity is zero, which would not tell the velocity fields from other
        zero fields, so distinct probe velocities are set on each body, checked, and set back
        to exactly what they were (bodies are awake at creation, so nothing else changes)."""
        saved = [(tuple(b.linearVelocity), b.angularVelocity) for b in self.bodies]
        for i, body in enumerate(self.bodies):
            body.linearVelocity = (1.25 + i, -2.5 - i)
            body.angularVelocity = 0.75 + i
        try:
            return self._matches_getters()
        finally:
            for body, (v, w) in zip(self.bodies, saved):
                body.linearVelocity = v
                body.angularVelocity = w

    def _matches_getters(self) -> bool:
        expected = np.array([(b.position.x, b.position.y, b.angle, b.linearVelocity.x,
                              b.linearVelocity.y, b.angularVelocity) for b in self.bodies])
        return bool(np.array_equal(self.read(), expected))


def make_body_view(world, bodies) -> BodyView | None:
    """A view onto `bodies`, or None (and one warning per process) when the layout does not match.

    The layout is a property of the compiled library, so the full check against the getters runs
    on the first view of a process; later views only need their bodies to share a chunk."""
    global _layout_ok
    try:
        view = BodyView(world, bodies)
        if _layout_ok is None:
            _layout_ok = view.verify()
        if _layout_ok:
            return view
    except (ValueError, TypeError, AttributeError):
        pass
    global _warned
    if not _warned:
        warnings.warn("openqwop: fast body reads unavailable for this Box2D build; using the "
                      "slower getters (results are the same)", RuntimeWarning, stacklevel=2)
        _warned = True
    return None


_layout_ok: bool | None = None  # set by the first full verification in this process
_warned = False
