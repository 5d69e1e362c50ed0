"""Find a key program that runs 100 m: the cross-entropy method over cyclic key programs.

    qwop-bench bot-search --generations 40 --seed 0

A candidate is `phases` (keys, updates) pairs repeated forever. Each phase's keys come from a
categorical distribution over the 9 distinct key states and its length from a Gaussian; each
generation samples a population, plays every candidate headless, and refits the distributions
to the best (the elite). Fitness rewards distance, then a finish, then a faster finish.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from qwopkit.adapter.openqwop.bots import KeyProgram, RunResult, play
from qwopkit.adapter.openqwop.engine import Engine
from qwopkit.adapter.openqwop.physics import O, P, Q, W

# The 9 key states the game distinguishes (Q beats W, O beats P).
KEY_STATES = (0, Q, W, O, P, Q | O, Q | P, W | O, W | P)
MIN_UPDATES, MAX_UPDATES = 1, 30


def fitness(result: RunResult, max_updates: int) -> float:
    if result.status == "finished":
        return 1000.0 + (max_updates - result.updates) / 30.0  # faster finishes score higher
    return result.distance - (5.0 if result.status == "fell" else 0.0)


@dataclass
class Candidate:
    program: KeyProgram
    result: RunResult
    score: float


def cross_entropy_search(phases: int = 4, population: int = 64, elite: int = 8,
                         generations: int = 40, max_updates: int = 3600, seed: int = 0,
                         verbose: bool = True) -> Candidate:
    """Search cyclic key programs of `phases` phases; returns the best candidate seen."""
    rng = np.random.default_rng(seed)
    key_probs = np.full((phases, len(KEY_STATES)), 1.0 / len(KEY_STATES))
    length_mean = np.full(phases, 10.0)
    length_std = np.full(phases, 6.0)
    engine = Engine()
    best: Candidate | None = None
    for generation in range(generations):
        scored = []
        for _ in range(population):
            key_idx = np.array([rng.choice(len(KEY_STATES), p=p) for p in key_probs])
            lengths = np.clip(np.rint(rng.normal(length_mean, length_std)), MIN_UPDATES, MAX_UPDATES)
            program = KeyProgram(cycle=tuple((KEY_STATES[k], int(n)) for k, n in zip(key_idx, lengths)))
            result = play(program, max_updates, engine)
            score = fitness(result, max_updates)
            scored.append((score, key_idx, lengths, Candidate(program, result, score)))
        scored.sort(key=lambda s: -s[0])
        elites = scored[:elite]
        counts = np.zeros_like(key_probs)
        for _, key_idx, _, _ in elites:
            counts[np.arange(phases), key_idx] += 1
        # Smoothed refit, so a state that is never elite can still come back.
        key_probs = 0.7 * counts / elite + 0.3 * key_probs
        key_probs /= key_probs.sum(axis=1, keepdims=True)
        lengths = np.array([e[2] for e in elites])
        length_mean = 0.7 * lengths.mean(axis=0) + 0.3 * length_mean
        length_std = np.maximum(0.7 * lengths.std(axis=0) + 0.3 * length_std, 0.5)
        if best is None or elites[0][0] > best.score:
            best = elites[0][3]
        if verbose:
            r = best.result
            print(f"gen {generation:3d}  elite mean {np.mean([e[0] for e in elites]):8.2f}  "
                  f"best {best.score:8.2f} ({r.status}, {r.distance:.1f} m, {r.hud_time:.1f} s)  "
                  f"{best.program.cycle}", flush=True)
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> None:
    from qwopkit.console import HelpFormatter

    parser = argparse.ArgumentParser(prog="qwop-bench bot-search",
                                     description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    parser.add_argument("--phases", type=int, default=4, help="(keys, updates) phases in a key program")
    parser.add_argument("--population", type=int, default=64, help="candidates played per generation")
    parser.add_argument("--elite", type=int, default=8, help="best candidates the distributions are refit to")
    parser.add_argument("--generations", type=int, default=40, help="generations to run")
    parser.add_argument("--max-updates", type=int, default=3600,
                        help="game updates per run before it counts as a timeout (3600 = 120 HUD s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling")
    args = parser.parse_args(argv)
    best = cross_entropy_search(args.phases, args.population, args.elite, args.generations,
                                args.max_updates, args.seed)
    r = best.result
    print(f"best: {best.program}  ->  {r.status}, {r.distance:.1f} m, HUD {r.hud_time:.2f} s")


if __name__ == "__main__":
    main()
