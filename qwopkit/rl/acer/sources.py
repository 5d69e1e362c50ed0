"""Where ACER's segments come from, when not from its own environments: the `SegmentSource` interface.

    model.set_segment_source(source)    # each collect_rollouts now takes source.collect(model, callback)
    model.learn(1_000_000)
    model.set_segment_source(None)      # back to stepping model.env

A source (qwopkit.training.ray_rollouts.RayRollouts is one: rollout workers on Ray) hands the
learner `model.n_envs` segments per call, as `ACER.collect_rollouts` would have collected them,
and keeps SB3's bookkeeping for the steps it hands over, through ACER's public names only:
`callback.on_rollout_start()`, then for each step `model.num_timesteps += n`,
`callback.update_locals(...)`, `callback.on_step()` (stopping when it returns False) and
`model.record_episode_ends(infos, dones)`, then `callback.on_rollout_end()`. It may read
`model.n_updates` (to know how stale its policy is) and log to `model.logger`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from stable_baselines3.common.callbacks import BaseCallback

from qwopkit.rl.acer.buffers import Segments

if TYPE_CHECKING:
    from qwopkit.rl.acer.acer import ACER


class SegmentSource(Protocol):
    """Segments for ACER collected elsewhere (see the module's docstring for the contract)."""

    def collect(self, model: ACER, callback: BaseCallback) -> Segments | None:
        """`model.n_envs` segments of `model.n_steps` steps; None if a callback stopped training."""
        ...


__all__ = ["SegmentSource"]
