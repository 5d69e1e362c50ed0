"""A fine-tuning run in the bundled game (floor: applications): ACER from a clone (or from scratch),
demonstrations in replay,
phases, periodic evaluation, checkpoints, and the report at the end.

    config = FinetuneConfig(demos=["data/"], init="models/bc.zip", schedule="self:2M,demos:1M,self:2M",
                            out="runs/kuro")
    result = run_finetune(config)           # runs/kuro/model.zip, report.json, curves.png
    result = resume_finetune("runs/kuro")   # continues a run that was killed, from its last checkpoint

A run folder holds `run.json` (the configuration, written first), `checkpoints/` (checkpoints.py),
`logs/` (SB3's logger: progress.csv and TensorBoard events), and at the end `model.zip`,
`report.json` and `curves.png` (report.py). Progress and phase changes go to `log` (the
command passes one that prints); the library below prints nothing. `qwop-finetune` is the
command line of this module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.save_util import load_from_zip_file
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from qwopkit.adapter.features import ACTION_NAMES, SEED_OBS_FIELDS, SEED_OBS_SIZE
from qwopkit.adapter.openqwop.physics import TIME_LIMIT
from qwopkit.atomic import atomic_write, write_json_atomic
from qwopkit.errors import InputError, ParameterError
from qwopkit.rl.acer import ACER, ACERWithDemos, DemoStore, PhaseScheduleCallback
from qwopkit.rl.acer.policies import ACERPolicy, ModelFileError, load_policy, save_policy
from qwopkit.rl.acer.schedules import PhaseSchedule
from qwopkit.rl.common.callbacks import QWOPEvalCallback, RunProgressCallback, WallClockLimit
from qwopkit.rl.common.demos import load_demonstrations
from qwopkit.rl.common.seed_models import is_sb2_zip, load_seed_acer
from qwopkit.training.checkpoints import ResumableCheckpointCallback, latest_checkpoint, restore_checkpoint
from qwopkit.training.report import build_report, plot_curves

ENV_ID = "qwopkit/QWOP-v0"
RUN_FILE = "run.json"
INIT_CHOICES = ("bc", "scratch")


@dataclass
class FinetuneConfig:
    """Everything a run needs; written to run.json so that `resume_finetune` can rebuild it.

    :param demos: episode files, folders or globs injected into the replay (None: no demonstrations).
    :param init: a model zip to start from (or the seed's own ACER agent, an SB2 zip: it is imported
        into the run folder's init.zip), "bc" (clone `demos` first, with qwop-pretrain) or
        "scratch" (random weights).
    :param preset: with init "bc", qwop-pretrain's preset ("human" or "bot"); None: the one the
        demonstrations call for (qwopkit/imitation/presets.py).
    :param schedule: phases, e.g. "self:2M,demos:1M,self:2M" (rl/acer/schedules.py).
    :param minutes: stop after this much wall-clock time (None: when the schedule ends).
    :param ray: collect on Ray workers ("local": a Ray on this machine; else a cluster's address);
        then the learner's batch is `workers` x `envs_per_worker` environments (not `n_envs`) and
        their policy is refreshed every `sync_every` updates.
    :param acer: ACER's keyword arguments (its defaults where absent).
    """

    out: str
    demos: list[str] | None = None
    init: str = "bc"
    preset: str | None = None
    schedule: str = "demos:1M"
    split: str | None = None
    n_envs: int = 8
    vec_env: str = "dummy"
    seed: int = 0
    time_limit: float = TIME_LIMIT
    demo_rate: float = 1.0
    demo_mu: str = "dataset"
    eval_every: int = 50_000
    eval_episodes: int = 5
    checkpoint_every: int = 100_000
    minutes: float | None = None
    threads: int = 1
    ray: str | None = None  # rollouts on Ray: "local" or a cluster's address (training/ray_rollouts.py)
    workers: int = 2
    envs_per_worker: int = 4
    sync_every: int = 1
    acer: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinetuneConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class FinetuneResult:
    out: Path
    model: Path
    report: dict[str, Any]
    report_path: Path
    curves: Path | None


def make_env(config: FinetuneConfig) -> VecEnv:
    """The training environments: `n_envs` copies of QWOP-v0 in one process or in subprocesses
    (with Ray, the learner's copies of the workers' environments, which it never steps)."""
    subproc = config.vec_env == "subproc" and config.ray is None
    # Subprocesses import qwopkit (which registers the id) through the "module:id" form.
    env_id = f"qwopkit:{ENV_ID}" if subproc else ENV_ID
    n_envs = config.workers * config.envs_per_worker if config.ray is not None else config.n_envs
    return make_vec_env(env_id, n_envs=n_envs, seed=config.seed,
                        vec_env_cls=SubprocVecEnv if subproc else DummyVecEnv,
                        env_kwargs={"time_limit": config.time_limit})


def _load_demos(config: FinetuneConfig) -> DemoStore | None:
    if not config.demos:
        return None
    return load_demonstrations(config.demos, observation_shape=(SEED_OBS_SIZE,), n_actions=len(ACTION_NAMES),
                               observation_fields=SEED_OBS_FIELDS, split=config.split)


def _init_policy_kwargs(path: Path, seed_acer: ACERPolicy | None = None) -> dict[str, Any]:
    """The network shape of an initial model (or of the seed's ACER agent imported from it), so that
    ACER builds the same layers."""
    policy = seed_acer or load_policy(path)  # raises ModelFileError naming the file
    shape, n_actions = policy.observation_space.shape, getattr(policy.action_space, "n", None)
    if shape != (SEED_OBS_SIZE,) or n_actions != len(ACTION_NAMES):
        raise ModelFileError(path, "its spaces are not QWOP-v0's (71 features, 11 actions)")
    if seed_acer is not None:
        return {"net_arch": seed_acer.net_arch}
    data, _, _ = load_from_zip_file(path, device="cpu", load_data=True)
    kwargs = dict((data or {}).get("policy_kwargs") or {})
    return {k: kwargs[k] for k in ("net_arch", "activation_fn") if k in kwargs}


def _pretrain(config: FinetuneConfig, out: Path, log: Any) -> Path:
    """The clone of the demonstrations that the run starts from (qwop-pretrain's defaults and preset)."""
    from qwopkit.imitation.config import BCConfig
    from qwopkit.imitation.pretrain import prepare_demos, train_clone
    from qwopkit.training.pretrain_cli import preparation_lines

    prepared = prepare_demos(config.demos or [], seed=config.seed, split=config.split, preset=config.preset,
                             preset_why="--preset")
    for line in preparation_lines(prepared):
        log(f"pretraining: {line}")
    result = train_clone(prepared, out / "bc.zip", config=BCConfig(seed=config.seed))
    for doubt in result.warnings:
        log(f"pretraining: WARNING: {doubt}")
    log(f"pretraining: the clone {result.model}, its report {result.report_path}")
    return result.model


def check_config(config: FinetuneConfig) -> None:
    """Refuse a configuration that cannot run before anything is written (ParameterError naming the field)."""
    schedule = PhaseSchedule.parse(config.schedule)
    if schedule.injects_demos and not config.demos:
        raise ParameterError("schedule", f"{config.schedule!r} has a demos phase, but no demos were given")
    if config.init == "bc" and not config.demos:
        raise ParameterError("init", "'bc' clones the demos, but no demos were given")
    checks = (("n_envs", config.n_envs >= 1), ("vec_env", config.vec_env in ("dummy", "subproc")),
              ("time_limit", config.time_limit > 0), ("demo_rate", config.demo_rate >= 0),
              ("demo_mu", config.demo_mu in ("dataset", "policy")), ("eval_every", config.eval_every >= 1),
              ("eval_episodes", config.eval_episodes >= 1),
              ("checkpoint_every", config.checkpoint_every >= 1),
              ("minutes", config.minutes is None or config.minutes > 0), ("threads", config.threads >= 1),
              ("workers", config.workers >= 1), ("envs_per_worker", config.envs_per_worker >= 1),
              ("sync_every", config.sync_every >= 1), ("preset", config.preset in (None, "human", "bot")))
    for name, ok in checks:
        if not ok:
            raise ParameterError(name, f"bad value {getattr(config, name)!r}")
    ACER.check_arguments(**config.acer)
    if config.ray is not None:
        if importlib.util.find_spec("ray") is None:
            raise ParameterError("ray", "needs the ray package: pip install -e '.[ray]' (from the checkout)")
        from qwopkit.training.ray_rollouts import check_address

        check_address(config.ray)


def run_finetune(config: FinetuneConfig, *, log: Any = print) -> FinetuneResult:
    """A new run in `config.out` (which must not hold a run already)."""
    check_config(config)
    out = Path(config.out)
    if (out / RUN_FILE).exists():
        raise ParameterError("out", f"{out} already holds a run (resume it, or choose another folder)")
    init = Path(config.init) if config.init not in INIT_CHOICES else None
    seed_acer = load_seed_acer(init) if init is not None and is_sb2_zip(init) else None
    policy_kwargs = _init_policy_kwargs(init, seed_acer) if init is not None else {}
    demos = _load_demos(config)
    if demos is not None:
        log(f"demonstrations: {len(demos)} decisions in {demos.episodes} episodes, "
            f"rewards recomputed with the environment's reward")
    out.mkdir(parents=True, exist_ok=True)
    record = {"kind": "qwopkit-finetune-run", **asdict(config)}
    write_json_atomic(out / RUN_FILE, record)
    if seed_acer is not None:
        log(f"the seed's ACER agent {init}, imported into {out / 'init.zip'}")
        init = save_policy(seed_acer, out / "init.zip", info={"imported_from": str(init)})
    if config.init == "bc":
        log("pretraining: behaviour cloning of the demonstrations (qwop-pretrain)")
        init = _pretrain(config, out, log)
    th.set_num_threads(config.threads)
    env = make_env(config)
    model = ACERWithDemos("MlpPolicy", env, demos=demos, demo_rate=config.demo_rate, demo_mu=config.demo_mu,
                          seed=config.seed, policy_kwargs=policy_kwargs, threads=config.threads,
                          **config.acer)
    if init is not None:
        model.set_parameters(str(init), exact_match=False)
        log(f"initial policy: {init}")
    return _train(model, config, out, progress=RunProgressCallback(out=sys.stderr),
                  evals=None, log=log)


def resume_finetune(folder: str | Path, *, log: Any = print) -> FinetuneResult:
    """Continue the run in `folder` from its last checkpoint (after a crash or kill -9)."""
    out = Path(folder)
    try:
        data = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError("folder", f"{out}: no run to resume here (no {RUN_FILE})") from None
    except ValueError as exc:
        raise InputError(out / RUN_FILE, f"not a run record ({exc})") from None
    config = FinetuneConfig.from_dict({**data, "out": str(out)})
    check_config(config)
    checkpoint = latest_checkpoint(out / "checkpoints")
    if checkpoint is None:
        raise ParameterError("folder", f"{out}: no checkpoint to resume from yet")
    th.set_num_threads(config.threads)
    env = make_env(config)
    model = ACERWithDemos.load(checkpoint.model, env=env, device="cpu")
    model.threads = config.threads
    restore_checkpoint(model, checkpoint)
    model.set_demos(_load_demos(config))
    progress = RunProgressCallback(out=sys.stderr)
    progress.load_state_dict(checkpoint.state.get("progress", {}))
    log(f"resuming {out} at step {checkpoint.step:,} ({progress.seconds / 60:.1f} min trained)")
    return _train(model, config, out, progress=progress, evals=checkpoint.state.get("evals", {}), log=log)


def _rollouts(config: FinetuneConfig, model: ACERWithDemos, log: Any) -> Any:
    """With `ray`, the Ray workers the model learns from while this context lasts (ray_rollouts.py)."""
    if config.ray is None:
        return contextlib.nullcontext()
    from qwopkit.training.ray_rollouts import RayRollouts

    rollouts = RayRollouts(f"qwopkit:{ENV_ID}", workers=config.workers,
                           envs_per_worker=config.envs_per_worker, sync_every=config.sync_every,
                           env_kwargs={"time_limit": config.time_limit}, seed=config.seed,
                           address=config.ray, log=log)
    return rollouts.start(model)


def _keep_earlier_logs(logs: Path, step: int) -> None:
    """Rename progress.csv and log.txt to progress.before-STEP.csv and log.before-STEP.txt."""
    for name in ("progress.csv", "log.txt"):
        path = logs / name
        if path.exists() and path.stat().st_size:
            path.rename(path.with_name(f"{path.stem}.before-{step}{path.suffix}"))


def _train(model: ACERWithDemos, config: FinetuneConfig, out: Path, *, progress: RunProgressCallback,
           evals: dict[str, Any] | None, log: Any) -> FinetuneResult:
    total = PhaseSchedule.parse(config.schedule).total_steps
    resumed = model.num_timesteps > 0
    # log.txt keeps the logger's tables and the phase changes, progress.csv the figures. SB3's
    # logger starts both files afresh: a resumed run moves the earlier ones aside first.
    if resumed:
        _keep_earlier_logs(out / "logs", model.num_timesteps)
    model.set_logger(configure(str(out / "logs"), ["csv", "tensorboard", "log"]))
    evaluation = QWOPEvalCallback(config.eval_every, config.eval_episodes, config.time_limit, config.seed,
                                  progress=progress)
    if evals:
        evaluation.load_state_dict(evals)
    callbacks = [PhaseScheduleCallback(config.schedule, log=log), progress, evaluation,
                 ResumableCheckpointCallback(out / "checkpoints", config.checkpoint_every,
                                             keep_state={"progress": progress, "evals": evaluation})]
    if config.minutes is not None:
        remaining = config.minutes * 60 - progress.seconds_before
        if remaining <= 0:
            log("the wall-clock budget was already spent")
        callbacks.append(WallClockLimit(max(remaining, 1e-3)))
    envs = (f"{config.workers} Ray workers x {config.envs_per_worker} envs" if config.ray is not None
            else f"{config.n_envs} envs")
    log(f"training: {config.schedule} ({total:,} steps), {envs}"
        + (f", at most {config.minutes:g} min" if config.minutes else ""))
    with _rollouts(config, model, log):
        model.learn(total - model.num_timesteps, callback=callbacks, reset_num_timesteps=not resumed,
                    log_interval=50)
    model_path = out / "model.zip"
    with atomic_write(model_path) as tmp:
        model.save(tmp)
    report = build_report(config=asdict(config), progress=progress, evals=evaluation.history,
                          steps=model.num_timesteps)
    report_path = out / "report.json"
    write_json_atomic(report_path, report)
    curves = plot_curves(report, out / "curves.png")
    if model.env is not None:
        model.env.close()
    return FinetuneResult(out, model_path, report, report_path, curves)
