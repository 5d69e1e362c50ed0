"""Training phases: when the fine-tuner injects demonstrations into its replay.

    schedule = PhaseSchedule.parse("self:2M,demos:1M,self:2M")
    schedule.total_steps          # 5_000_000
    schedule.phase_at(2_500_000)  # (1, Phase("demos", 1_000_000))

A phase is a kind and a length in environment steps. In a `demos` phase ACER injects
demonstration segments into its replay; in a `self` phase it does not (the demonstrations
already in the replay age out as self-play replaces them). This is the seed's recipe: pretrain,
self-play, self-play with an expert's data, self-play. Lengths take a k or M suffix (1.5M,
500k) or an integer. Past the last phase, the last phase goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qwopkit.errors import ParameterError

PHASE_KINDS = ("self", "demos")
_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class Phase:
    kind: str  # "self" or "demos"
    steps: int  # environment steps

    @property
    def injects_demos(self) -> bool:
        return self.kind == "demos"

    def __str__(self) -> str:
        return f"{self.kind}:{format_steps(self.steps)}"


def format_steps(steps: int) -> str:
    """1_000_000 -> '1M', 1_500_000 -> '1.5M', 250_000 -> '250k', 1234 -> '1234' (parse_steps reads them)."""
    if steps >= 1_000_000 and steps % 100_000 == 0:
        return f"{steps / 1_000_000:g}M"
    if steps >= 1_000 and steps % 1_000 == 0:
        return f"{steps // 1_000}k"
    return str(steps)


def parse_steps(text: str) -> int:
    """'2M' -> 2_000_000, '1.5M' -> 1_500_000, '500k' -> 500_000, '1234' -> 1234.

    Raises ValueError (quoting the text) on anything else, or on a length below one step.
    """
    match = _LENGTH.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a number of steps (e.g. 2M, 500k, 20000)")
    steps = int(round(float(match.group(1)) * _SCALE[match.group(2).lower()]))
    if steps < 1:
        raise ValueError(f"{text!r}: a phase needs at least one step")
    return steps


@dataclass(frozen=True)
class PhaseSchedule:
    phases: tuple[Phase, ...]

    @classmethod
    def parse(cls, text: str) -> PhaseSchedule:
        """Read "kind:steps,kind:steps,...". Raises ParameterError("schedule", ...) naming the wrong part."""
        parts = [p.strip() for p in str(text).split(",")]
        if not text or not all(parts):
            raise ParameterError("schedule", f"{text!r} is not a list of phases like "
                                             "'self:2M,demos:1M,self:2M'")
        phases = []
        for part in parts:
            kind, sep, length = part.partition(":")
            kind = kind.strip()
            if not sep:
                raise ParameterError("schedule", f"phase {part!r} has no length (write {part}:1M)")
            if kind not in PHASE_KINDS:
                raise ParameterError("schedule", f"phase kind {kind!r} is not one of "
                                                 f"{', '.join(PHASE_KINDS)}")
            try:
                phases.append(Phase(kind, parse_steps(length)))
            except ValueError as exc:
                raise ParameterError("schedule", str(exc)) from None
        return cls(tuple(phases))

    @classmethod
    def constant(cls, kind: str, steps: int) -> PhaseSchedule:
        return cls((Phase(kind, steps),))

    @property
    def total_steps(self) -> int:
        return sum(p.steps for p in self.phases)

    @property
    def injects_demos(self) -> bool:
        """Whether any phase injects demonstrations."""
        return any(p.injects_demos for p in self.phases)

    def phase_at(self, step: int) -> tuple[int, Phase]:
        """(index, phase) in force at environment step `step` (the last phase past the end)."""
        end = 0
        for i, phase in enumerate(self.phases):
            end += phase.steps
            if step < end:
                return i, phase
        return len(self.phases) - 1, self.phases[-1]

    def __str__(self) -> str:
        return ",".join(str(p) for p in self.phases)
