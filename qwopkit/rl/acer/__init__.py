"""qwopkit.rl.acer: ACER, laid out as sb3-contrib lays out one algorithm. Floor: algorithms.

    from qwopkit.rl.acer import ACER, ACERWithDemos, PhaseScheduleCallback

- acer.py: `ACER` (the algorithm), `retrace_targets`, `trust_region_projection`;
- policies.py: `ACERPolicy` (the seed's network and its averaged copy), its zip files;
- buffers.py: `Segments`, `SegmentReplayBuffer`, `DemoStore`;
- with_demos.py: `ACERWithDemos` (demonstrations in the replay) and `PhaseScheduleCallback`;
- schedules.py: `PhaseSchedule`, the phases of injection ("self:2M,demos:1M,self:2M");
- sources.py: `SegmentSource`, the interface of segments collected elsewhere (Ray).

It may import the library floor (qwopkit.adapter, qwopkit.dataset, the shared leaves); nothing
of qwopkit.rl.common above it, nor of the applications (qwopkit.training, qwopkit.bench, ...).
"""

from qwopkit.rl.acer.acer import ACER, retrace_targets, trust_region_projection
from qwopkit.rl.acer.buffers import DemoStore, SegmentReplayBuffer, Segments
from qwopkit.rl.acer.policies import ACERPolicy, ModelFileError, load_policy, save_policy
from qwopkit.rl.acer.sources import SegmentSource
from qwopkit.rl.acer.with_demos import ACERWithDemos, PhaseScheduleCallback

__all__ = ["ACER", "ACERPolicy", "ACERWithDemos", "DemoStore", "ModelFileError", "PhaseScheduleCallback",
           "SegmentReplayBuffer", "SegmentSource", "Segments", "load_policy", "retrace_targets",
           "save_policy", "trust_region_projection"]
