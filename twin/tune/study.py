"""The tuning loop: Optuna asks for a batch of K candidates, the engine simulates them as
K x M lanes of one run with common random numbers, Optuna is told what they measured.

Studies live in Optuna storage (a SQLite file by default), trial by trial: a study stopped at
any point loses no finished trial, and ``--resume`` re-runs the candidates that were in flight
first. Several processes, on one machine or several, can work on one study (``--worker``)."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import math
import os
import signal
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.config import ConfigError, Plant, load_plant
from twin.errors import TwinError
from twin.files import writing
from twin.run.simulate import SimulationError, simulate_batch
from twin.tune import measures
from twin.tune.space import Space

OK, REJECTED, FAILED = "ok", "rejected", "failed"
ORPHAN_S = 30.0  # a running trial with no owner this old was asked by a process that died
PENALTY = 10.0  # CMA-ES: how much worse a candidate is told per unit of relative violation
COUNTED = (REJECTED, FAILED)  # failed trials that count towards --trials (not interruptions)


@dataclass
class Settings:
    """How one `twin tune` process works; None falls back to the plant's `tune` section."""

    trials: int | None = None
    batch: int | None = None
    replications: int | None = None
    seed: int | None = None
    sampler: str | None = None
    backend: str = "auto"
    workers: int | None = None
    storage: str | None = None
    study: str | None = None
    out: str | None = None
    resume: bool = False
    worker: bool = False


@dataclass
class Outcome:
    """What one candidate measured (or why it was not simulated)."""

    values: dict[str, Any]
    status: str = OK
    reason: str = ""
    reps: dict[str, np.ndarray] = field(default_factory=dict)  # metric -> per replication
    violations: list[float] = field(default_factory=list)  # > 0: that constraint is broken

    def mean(self, metric: str) -> float:
        return float(np.mean(self.reps[metric]))

    @property
    def feasible(self) -> bool:
        return self.status == OK and all(v <= 0 for v in self.violations)


class Tuner:
    """A tuning study of one plant file: its space, objectives, constraints and storage."""

    def __init__(self, config: str | os.PathLike, settings: Settings | None = None):
        self.settings = s = settings or Settings()
        self.config = str(config)
        plant = load_plant(config)
        if plant.tune is None:
            raise TwinError(f"{config}: no `tune:` section; add one with `variables` and "
                            f"`objectives` (see docs/tuning.md)")
        self.plant, self.tune = plant, plant.tune
        self._check_metrics()
        self.space = Space(config, plant)
        self.space.check_bounds()
        t = self.tune
        self.trials = _positive("--trials", s.trials, t.trials)
        self.batch = _positive("--batch", s.batch, t.batch)
        self.replications = _positive("--replications", s.replications, t.replications)
        self.seed = s.seed if s.seed is not None else (t.seed if t.seed is not None
                                                        else plant.seed)
        self.sampler_name = s.sampler or t.sampler
        self.out = Path(s.out or f"tune-{plant.name}")
        self.storage_url = s.storage or f"sqlite:///{self.out / 'study.db'}"
        self.study_name = s.study or plant.name
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.study = None
        self.in_flight = (0, 0)

    # -- objectives and constraints ----------------------------------------------------------

    @property
    def metrics(self) -> list[str]:
        """Objective metrics, then constraint metrics not already among them."""
        names = [o.metric for o in self.tune.objectives]
        return names + [c.metric for c in self.tune.constraints if c.metric not in names]

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.tune.objectives]

    def _check_metrics(self) -> None:
        for key, items in (("objectives", self.tune.objectives),
                           ("constraints", self.tune.constraints)):
            for i, item in enumerate(items):
                why = measures.check(self.plant, item.metric)
                if why:
                    raise TwinError(f"{self.config}: tune.{key}[{i}]: {why}")

    def _violations(self, means: dict[str, float], names: tuple[str, ...] | None = None
                    ) -> list[float]:
        """Per constraint: how far the mean is outside its bounds, relative to the bound
        (> 0 broken, <= 0 met); only those on ``names`` metrics when given (others 0)."""
        out = []
        for c in self.tune.constraints:
            if names is not None and measures.canonical(c.metric) not in names:
                out.append(0.0)
                continue
            low, high = measures.bounds(c)
            value = means[c.metric]
            worst = -math.inf
            if low is not None:
                worst = max(worst, (low - value) / (abs(low) or 1.0))
            if high is not None:
                worst = max(worst, (value - high) / (abs(high) or 1.0))
            out.append(float(worst))
        return out

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self, candidates: list[dict[str, Any]], replications: int, seed: int,
                 progress: Callable[[float], None] | None = None) -> list[Outcome]:
        """Build, check and simulate candidates: invalid plants (phases out of order among
        them) and broken budgets are rejected without a simulation; the rest run as
        ``len x replications`` lanes of one batch."""
        outcomes = [Outcome(values=v) for v in candidates]
        plants: list[Plant | None] = [None] * len(candidates)
        for k, out in enumerate(outcomes):
            disorder = self.space.order_problem(out.values)
            if disorder:
                out.status, out.reason = REJECTED, disorder
                continue
            try:
                plants[k] = self.space.plant_for(out.values)
            except ConfigError as err:
                out.status, out.reason = REJECTED, _message(err.problems[0])
                continue
            cost = measures.capital_cost(plants[k], self.tune.costs)
            before = self._violations({c.metric: cost for c in self.tune.constraints},
                                      ("capital_cost",))
            broken = [c for c, v in zip(self.tune.constraints, before, strict=True) if v > 0]
            if broken:
                low, high = measures.bounds(broken[0])
                bound = f"above the budget {high:,.0f}" if high is not None and cost > high \
                    else f"below {low:,.0f}"
                out.status, out.reason = REJECTED, f"capital cost {cost:,.0f} USD is {bound}"
        todo = [k for k, out in enumerate(outcomes) if out.status == OK]
        if todo:
            results = simulate_batch([plants[k] for k in todo], replications, seed,
                                     backend=self.settings.backend, horizon=self.tune.horizon,
                                     warmup=self.tune.warmup, progress=progress,
                                     workers=self.settings.workers)
            for k, result in zip(todo, results, strict=True):
                out = outcomes[k]
                if isinstance(result, SimulationError):
                    out.status, out.reason = FAILED, str(result)
                    continue
                out.reps = {m: measures.values(m, result, plants[k], self.tune.costs)
                            for m in self.metrics}
                means = {m: out.mean(m) for m in self.metrics}
                out.violations = self._violations(means)
                out.reason = "; ".join(
                    _broken(c, means[c.metric])
                    for c, v in zip(self.tune.constraints, out.violations, strict=True) if v > 0)
        return outcomes

    # -- the study ----------------------------------------------------------------------------

    def open(self):
        """Create the study, or load it with --resume/--worker; check it belongs to this
        config."""
        optuna = load_optuna()
        if self.storage_url.startswith("sqlite:///"):
            folder = Path(self.storage_url.removeprefix("sqlite:///")).parent
            with writing(f"--out {folder}", "there", "folder"):
                folder.mkdir(parents=True, exist_ok=True)
        for attempt in range(8):
            try:
                storage = optuna.storages.RDBStorage(self.storage_url)
                break
            except Exception as err:  # noqa: BLE001 - any storage problem is the user's URL
                if attempt < 7 and _schema_race(err):  # workers started at once: try again
                    time.sleep(0.1 * (attempt + 1))
                    continue
                hint = "" if not isinstance(err, ImportError) else (
                    "; install its driver in the venv: pip install 'psycopg[binary]' for "
                    "PostgreSQL, pymysql for MySQL")
                raise TwinError(f"--storage {self.storage_url}: cannot open it "
                                f"({type(err).__name__}: {str(err).splitlines()[0]}){hint}"
                                ) from None
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        exists = self.study_name in names
        if exists and not (self.settings.resume or self.settings.worker):
            raise TwinError(f"study '{self.study_name}' already exists in {self.storage_url}; "
                            f"add --resume to continue it, or --study NAME for a new one")
        if not exists and self.settings.resume:
            raise TwinError(f"--resume: no study '{self.study_name}' in {self.storage_url}; "
                            f"run without --resume to start it")
        study = optuna.create_study(storage=storage, study_name=self.study_name,
                                    directions=self.directions, sampler=self._sampler(),
                                    load_if_exists=True)
        key = self.fingerprint()
        saved = study.user_attrs.get("twin_config")
        if saved is None:
            study.set_user_attr("twin_config", key)
            study.set_user_attr("config_file", self.config)
            study.set_user_attr("metrics", self.metrics)
            study.set_user_attr("directions", self.directions)
        elif saved != key:
            raise TwinError(f"study '{self.study_name}' in {self.storage_url} was made from "
                            f"another plant or tune section than {self.config}; use --study "
                            f"NAME for a new study")
        if [d.name.lower() for d in study.directions] != self.directions:
            raise TwinError(f"study '{self.study_name}' has other objectives; use --study NAME")
        self.study = study
        return study

    def fingerprint(self) -> str:
        """What a study's trials depend on: the plant and its tune section, less the settings
        that only say how long to search and how to report."""
        data = self.plant.model_dump(mode="json")
        for key in ("trials", "batch", "reevaluate", "sampler"):
            data["tune"].pop(key, None)
        data["tune"]["replications"] = self.replications
        data["tune"]["seed"] = self.seed
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def sampler_kind(self) -> str:
        """The sampler that runs: ``auto`` resolved."""
        if self.sampler_name != "auto":
            return self.sampler_name
        return "tpe" if len(self.directions) == 1 else "nsga2"

    def penalized(self, objectives: list[float], violations: list[float]) -> list[float]:
        """For CMA-ES, which knows no constraints: each objective made worse by
        ``PENALTY x (1 + |value|) x`` the sum of the (relative) violations."""
        excess = sum(v for v in violations if v > 0)
        if excess <= 0:
            return objectives
        return [v + (-1.0 if d == "maximize" else 1.0) * PENALTY * (1.0 + abs(v)) * excess
                for v, d in zip(objectives, self.directions, strict=True)]

    def _sampler(self):
        optuna = load_optuna()
        name = self.sampler_kind
        if name == "cmaes" and len(self.directions) > 1:
            raise TwinError("--sampler cmaes: CMA-ES optimizes one objective; use nsga2 or tpe "
                            "for several")
        seed = self.seed if not self.settings.worker else \
            self.seed + int(hashlib.sha256(self.owner.encode()).hexdigest()[:6], 16)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if name == "tpe":
                return optuna.samplers.TPESampler(seed=seed, multivariate=True,
                                                  constant_liar=True)
            if name == "nsga2":
                return optuna.samplers.NSGAIISampler(population_size=max(self.batch, 2),
                                                     seed=seed)
            if name == "cmaes":
                return optuna.samplers.CmaEsSampler(seed=seed, popsize=max(self.batch, 4),
                                                    warn_independent_sampling=False)
            return optuna.samplers.RandomSampler(seed=seed)

    def counted(self) -> int:
        """Trials that count towards --trials: finished ones, and those in flight. Waiting
        (enqueued) trials do not count: they are asked first, and count once running."""
        states = load_optuna().trial.TrialState
        n = 0
        for t in self.study.get_trials(deepcopy=False):
            if t.state in (states.COMPLETE, states.RUNNING) or (
                    t.state == states.FAIL and t.user_attrs.get("status") in COUNTED):
                n += 1
        return n

    def recover(self) -> int:
        """Candidates that were in flight when a process on this machine stopped: marked
        interrupted and asked again first. Returns how many."""
        optuna = load_optuna()
        host = socket.gethostname()
        again = 0
        for t in self.study.get_trials(deepcopy=False,
                                       states=(optuna.trial.TrialState.RUNNING,)):
            owner = str(t.user_attrs.get("owner", ""))
            who_host, _, rest = owner.partition(":")
            pid = int(rest.split(":")[0]) if rest.split(":")[0].isdigit() else -1
            if not owner:  # asked, then killed before it was claimed: stale once old enough
                started = t.datetime_start
                if started is None or (datetime.datetime.now() - started).total_seconds() \
                        < ORPHAN_S:
                    continue
            elif who_host != host or (pid != os.getpid() and _alive(pid)):
                continue  # another machine's, or a live worker's
            self.study.tell(t.number, state=optuna.trial.TrialState.FAIL)
            if t.params:
                self.study.enqueue_trial(t.params, user_attrs={"retry_of": t.number},
                                         skip_if_exists=False)
            again += 1
        return again

    def run(self, on_batch: Callable[[int, int, str], None] | None = None,
            progress: Callable[[float], None] | None = None) -> None:
        """Ask, simulate and tell batches until the study has its trials."""
        study = self.study or self.open()
        optuna = load_optuna()
        if self.settings.resume:
            self.recover()
        while True:
            k = min(self.batch, self.trials - self.counted())
            if k <= 0:
                break
            asked = []
            for i in range(k):
                if i and self.settings.worker and self.counted() >= self.trials:
                    break  # other workers took the rest
                with deferred_interrupt():  # never a trial in flight without its owner
                    trial = study.ask()
                    trial.set_user_attr("owner", self.owner)
                values = self.space.suggest(trial)
                trial.set_user_attr("values", _jsonable(values))
                asked.append((trial, values))
            k = len(asked)
            self.in_flight = (self.counted() - k, k)  # trials done before, and this batch
            outcomes = self.evaluate([v for _, v in asked], self.replications, self.seed,
                                     progress)
            for (trial, _), out in zip(asked, outcomes, strict=True):
                trial.set_user_attr("status", out.status)
                if out.reason:
                    trial.set_user_attr("reason", out.reason[:2000])
                if out.status != OK:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    continue
                trial.set_user_attr("means", {m: out.mean(m) for m in self.metrics})
                trial.set_user_attr("feasible", out.feasible)
                objectives = [out.mean(o.metric) for o in self.tune.objectives]
                if self.sampler_kind == "cmaes":  # no constraint handling: a static penalty
                    objectives = self.penalized(objectives, out.violations)
                else:
                    pairs = zip(self.tune.constraints, out.violations, strict=True)
                    for i, (c, v) in enumerate(pairs):
                        trial.set_constraint(f"{i}:{c.metric}", v)  # ranked after feasible
                study.tell(trial, objectives if len(objectives) > 1 else objectives[0])
            if on_batch is not None:
                on_batch(self.counted(), self.trials, self.best_text())

    def best_text(self) -> str:
        """The best feasible search value so far, for the progress bar."""
        rows = [t for t in completed(self.study) if t.user_attrs.get("feasible")]
        if not rows:
            return "no feasible candidate yet"
        parts = []
        for i, o in enumerate(self.tune.objectives):
            pick = max if o.direction == "maximize" else min
            parts.append(f"{o.metric} {pick(t.values[i] for t in rows):.4g}")
        return "best " + ", ".join(parts)


def completed(study) -> list:
    """The study's complete trials."""
    states = load_optuna().trial.TrialState
    return study.get_trials(deepcopy=False, states=(states.COMPLETE,))


def _broken(constraint, value: float) -> str:
    """``throughput 4.76 is below its min 5`` for a broken constraint."""
    low, _ = measures.bounds(constraint)
    if low is not None and value < low:
        return f"{constraint.metric} {value:.4g} is below its min {constraint.min}"
    return f"{constraint.metric} {value:.4g} is above its max {constraint.max}"


def _schema_race(err: Exception) -> bool:
    """Whether opening the storage failed because another process was creating its tables at
    the same moment (several workers started at once on a new database)."""
    text = str(err)
    return any(s in text for s in ("already exists", "UNIQUE constraint failed",
                                   "database is locked"))


def _positive(flag: str, given: int | None, default: int) -> int:
    if given is None:
        return default
    if given < 1:
        raise TwinError(f"{flag} {given}: must be at least 1")
    return given


def _message(problem: str) -> str:
    """A config problem without its file and line: ``path: what is wrong``."""
    _head, sep, rest = problem.partition(": ")
    return rest if sep else problem


@contextlib.contextmanager
def deferred_interrupt():
    """Hold Ctrl-C (SIGINT) back until the block ends; only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *args: caught.append(args))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):  # Python's own handler raises KeyboardInterrupt
            previous(*caught[0])
        elif caught and previous == signal.SIG_DFL:
            raise KeyboardInterrupt


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))


def load_optuna():
    import optuna  # loaded only by `twin tune`

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna
