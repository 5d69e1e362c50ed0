"""ACER with demonstrations in its replay (the seed's recipe), and the callback that schedules them.

    demos = load_demonstrations("data/", observation_shape=(71,), n_actions=11)   # rl/common/demos.py
    model = ACERWithDemos("MlpPolicy", env, demos=demos, demo_rate=1.0, demo_mu="dataset")
    model.learn(5_000_000, callback=PhaseScheduleCallback("self:2M,demos:1M,self:2M"))

After each on-policy segment batch goes into the replay, `demo_rate` demonstration segments per
environment follow it while demonstrations are injected: always, or in the `demos` phases of a
`PhaseScheduleCallback`. Everything else is ACER's: this subclass only adds to what goes into
the replay (as SB3's HER adds to what its buffer stores), so `ACER`'s learning is untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from stable_baselines3.common.callbacks import BaseCallback

from qwopkit.errors import ParameterError
from qwopkit.rl.acer.acer import ACER
from qwopkit.rl.acer.buffers import DemoStore, Segments
from qwopkit.rl.acer.schedules import PhaseSchedule

DEMO_MU = ("dataset", "policy")


class ACERWithDemos(ACER):
    """ACER whose replay also receives demonstration segments.

    :param demos: the demonstrations (a DemoStore: `load_demonstrations` makes one); None until
        `set_demos` gives them (they are not saved in zips: a loaded model is given them again).
    :param demo_rate: demonstration segments injected per on-policy segment while injecting (1.0 is
        the seed's 1:1; fractions accumulate).
    :param demo_mu: behaviour probabilities of a demonstration step: "dataset" (the estimate its
        episode file stores) or "policy" (the current policy's when the segment is injected, as
        the seed did).
    :param kwargs: ACER's.
    """

    _RULES: ClassVar[dict[str, Any]] = {**ACER._RULES, "demo_rate": lambda v: v >= 0,
                                        "demo_mu": lambda v: v in DEMO_MU}

    def __init__(self, policy: Any, env: Any, demos: DemoStore | None = None, demo_rate: float = 1.0,
                 demo_mu: str = "dataset", **kwargs: Any) -> None:
        self.check_arguments(demo_rate=demo_rate, demo_mu=demo_mu)
        self.demos = demos
        self.demo_rate = demo_rate
        self.demo_mu = demo_mu
        # Whether this iteration injects: None follows `demos` (given: yes); a PhaseScheduleCallback
        # sets it phase by phase.
        self.inject_demos: bool | None = None
        super().__init__(policy, env, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        self._demo_credit = getattr(self, "_demo_credit", 0.0)  # (a loaded model goes on with its own)

    def set_demos(self, demos: DemoStore | None) -> None:
        """Give (or take away) the demonstrations to inject."""
        self.demos = demos

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "demos"]

    def _store_rollout(self, segments: Segments) -> None:
        super()._store_rollout(segments)
        injecting = self.demos is not None if self.inject_demos is None else self.inject_demos
        self.logger.record_mean("replay/demos_injected", self._inject() if injecting else 0)

    def _inject(self) -> int:
        """Put this iteration's share of demonstration segments into the replay; returns how many."""
        self._demo_credit += self.demo_rate * self.n_envs
        count = int(self._demo_credit)
        self._demo_credit -= count
        if count == 0:
            return 0
        if self.demos is None:
            raise ParameterError("demos", "demonstrations are to be injected, but none were given "
                                          "(pass demos= or call set_demos)")
        assert self.replay_buffer is not None
        segments = self.demos.sample(count, self.n_steps, self._rng)
        if self.demo_mu == "policy":
            segments = segments.with_mu(self.action_probabilities(segments.observations[:, :-1]))
        self.replay_buffer.add(segments)
        return count


class PhaseScheduleCallback(BaseCallback):
    """Switches an ACERWithDemos' injection phase by phase ("self:2M,demos:1M,self:2M": only in the
    `demos` phases), decided at the start of each rollout from the steps done so far.

    :param schedule: a PhaseSchedule or its text (rl/common/schedules.py).
    :param log: called with a line at each change of phase (None: silent); the line also goes to
        the model's logger (its log.txt).
    """

    def __init__(self, schedule: PhaseSchedule | str, log: Callable[[str], None] | None = None,
                 verbose: int = 0) -> None:
        super().__init__(verbose)
        self.schedule = PhaseSchedule.parse(schedule) if isinstance(schedule, str) else schedule
        self.log = log
        self._phase_index = -1

    def _on_training_start(self) -> None:
        if not isinstance(self.model, ACERWithDemos):
            raise ParameterError("schedule", f"phases inject demonstrations: the model must be an "
                                             f"ACERWithDemos, not {type(self.model).__name__}")
        if self.schedule.injects_demos and self.model.demos is None:
            raise ParameterError("schedule", f"{self.schedule} has a demos phase, but no demonstrations "
                                             f"were given (pass demos= or call set_demos)")

    def _on_rollout_start(self) -> None:
        model = self.model
        assert isinstance(model, ACERWithDemos)
        index, phase = self.schedule.phase_at(model.num_timesteps)
        if index != self._phase_index:
            message = f"step {model.num_timesteps:,}: phase {index + 1}/{len(self.schedule.phases)} {phase}"
            self.logger.log(message)
            if self.log is not None:
                self.log(message)
            self._phase_index = index
        model.inject_demos = phase.injects_demos
        self.logger.record("demos/phase", index + 1)

    def _on_step(self) -> bool:
        return True


__all__ = ["DEMO_MU", "ACERWithDemos", "PhaseScheduleCallback"]
