"""A cached feature pipeline with a diamond-shaped DAG.

          load_events
           /       \
   user_stats    session_stats      (run in parallel)
           \\       /
         join_features

Run it twice: the second run is served from the cache (no task body runs).
    stratoflow run examples/features.py features --days 7
"""

from __future__ import annotations

import hashlib
import random

from stratoflow import task, workflow


@task(cache=True)
def load_events(days: int, seed: int) -> list[dict[str, float]]:
    """Synthetic clickstream events (deterministic for a given seed)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    return [
        {
            "user": float(rng.randint(1, 50)),
            "session": float(rng.randint(1, 400)),
            "seconds": rng.expovariate(1 / 40),
        }
        for _ in range(days * 200)
    ]


@task(cache=True)
def user_stats(events: list[dict[str, float]]) -> dict[str, float]:
    """Mean seconds spent per user."""
    totals: dict[str, list[float]] = {}
    for event in events:
        totals.setdefault(str(int(event["user"])), []).append(event["seconds"])
    return {user: round(sum(v) / len(v), 3) for user, v in sorted(totals.items())}


@task(cache=True)
def session_stats(events: list[dict[str, float]]) -> dict[str, float]:
    """Events per session, summarised."""
    counts: dict[float, int] = {}
    for event in events:
        counts[event["session"]] = counts.get(event["session"], 0) + 1
    values = sorted(counts.values())
    return {
        "sessions": float(len(values)),
        "median_events": float(values[len(values) // 2]) if values else 0.0,
    }


@task(cache=True, cache_ignore_input_vars=("run_label",))
def join_features(users: dict[str, float], sessions: dict[str, float], run_label: str) -> dict[str, float]:
    """One feature row; ``run_label`` is cosmetic, so it does not change the cache key."""
    row = dict(sessions)
    row["users"] = float(len(users))
    row["mean_user_seconds"] = round(sum(users.values()) / max(1, len(users)), 3)
    row["fingerprint"] = int(hashlib.sha256(repr(sorted(users.items())).encode()).hexdigest()[:8], 16) / 1e9
    return row


@workflow
def features(days: int = 7, seed: int = 42, run_label: str = "nightly") -> dict[str, float]:
    events = load_events(days=days, seed=seed)
    return join_features(
        users=user_stats(events=events), sessions=session_stats(events=events), run_label=run_label
    )
