"""Stress tests in the solve path: which oracle and inputs a task's candidates are checked against, and the
check of one candidate that passed the examples.

Oracles, best first: the user's brute force and generator next to the file (codegen/stress_files.py); else,
with `model_oracle`, a brute force and a generator asked from the model in separate chats submitted together
with the candidates; for function-style tasks the inputs are generated from the examples' argument types
(codegen/oracles.py `function_calls`), so without a brute force the candidate is still run on them (crashes
and time-outs count). The statement's constraints (codegen/constraints.py) give the size to time at.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

from codegen.backends.base import GenerationParams
from codegen.engine import Cancelled, Engine, Job, Priority
from codegen.tasks import Task
from sandbox import Judge, Limits, TestCase
from sandbox.stress import Program, StressReport, stress_function, stress_stdin

FUNCTION_CALLS = 200  # generated calls per function-style stress test


@dataclass(frozen=True)
class StressOptions:
    """How candidates are stress-tested (the `verification.*` settings)."""

    seconds: float = 3.0
    runs: int = 300
    model_oracle: bool = True


@dataclass
class StressPlan:
    """What one task's candidates are stress-tested against; model oracles arrive later (their jobs)."""

    brute: Program | None = None
    generator: Program | None = None
    calls: list[str] = field(default_factory=list)
    max_n: int | None = None
    jobs: dict[str, Job] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wants_model(self, task: Task) -> dict[str, bool]:
        """Which programs to ask the model for: a brute force, and a generator for a stdin program."""
        return {"brute": self.brute is None, "gen": task.style == "stdin" and self.generator is None}


def plan_for(task: Task, options: StressOptions) -> StressPlan | None:
    """The user's oracles, the generated calls and the maximum size of a task; None when it cannot be
    stress-tested (a method of a class, a language the stress loop does not run, or no oracle: no brute force
    next to the file, or for a stdin program no generator, and `model_oracle` off)."""
    if task.language not in ("python", "cpp") or task.class_name is not None:
        return None
    plan = StressPlan()
    if task.path is not None:
        from codegen.stress_files import find_user_oracles, load_program

        found = find_user_oracles(task.path)
        plan.brute = load_program(found.brute) if found.brute else None
        plan.generator = load_program(found.generator) if found.generator else None
    needed = plan.generator if task.style == "stdin" else plan.brute
    if needed is None and not options.model_oracle:
        return None
    if task.style == "function":
        from codegen.oracles import function_calls

        plan.calls = function_calls(task, FUNCTION_CALLS) if task.function else []
    else:
        from codegen.constraints import read_constraints

        plan.max_n = read_constraints(task.file_text or task.docstring).max_n
    return plan


def request_model_oracles(
    plan: StressPlan, task: Task, engine: Engine, params: GenerationParams, system_prompt: str | None
) -> None:
    """Queue the model's brute force and generator chats (one reply each), right after the candidates'."""
    from codegen.oracles import brute_force_messages, generator_messages

    one = dataclasses.replace(params, n=1, prompt_lookup_num_tokens=0)
    wanted = plan.wants_model(task)
    if wanted["brute"]:
        plan.jobs["brute"] = engine.chat(brute_force_messages(task, system_prompt), one, Priority.BACKGROUND)
    if wanted["gen"]:
        plan.jobs["gen"] = engine.chat(generator_messages(task, system_prompt), one, Priority.BACKGROUND)


def cancel_model_oracles(plan: StressPlan | None) -> None:
    """Stop the model's oracle chats (when the solve ends without needing them)."""
    for job in plan.jobs.values() if plan else ():
        job.cancel()


def _collect(plan: StressPlan, task: Task, cancel: threading.Event | None) -> None:
    """Wait for the model's oracle replies and turn them into programs (once; later calls return at once)."""
    if not plan.jobs:
        return
    from codegen.oracles import program_from_reply
    from codegen.pipeline import wait_for

    with plan._lock:
        for role, job in list(plan.jobs.items()):
            try:
                replies = wait_for(job, cancel)
            except Cancelled:
                raise
            except Exception:  # noqa: BLE001 - a failed oracle request only means no oracle
                replies = []
            name = "the model's brute force" if role == "brute" else "the model's generator"
            program = program_from_reply(replies[0], task.language, name) if replies else None
            if role == "brute" and plan.brute is None:
                plan.brute = program
            elif role == "gen" and plan.generator is None:
                plan.generator = program
            del plan.jobs[role]


def stress_candidate(
    task: Task,
    program_code: str,
    tests: list[TestCase],
    judge: Judge,
    plan: StressPlan,
    options: StressOptions,
    limits: Limits | None = None,
    cancel: threading.Event | None = None,
) -> StressReport | None:
    """Stress-test a candidate that passed the examples (its code as the judge runs it); None when there is
    nothing to test it with (a stdin program without a generator)."""
    _collect(plan, task, cancel)
    solution = Program(program_code, task.language, "the candidate")
    if task.style == "stdin":
        if plan.generator is None:
            return None
        return stress_stdin(
            judge,
            solution,
            plan.brute,
            plan.generator,
            samples=tests,
            runs=options.runs,
            seconds=options.seconds,
            max_n=plan.max_n,
            limits=limits,
            cancel=cancel,
        )
    if not plan.calls and plan.brute is None:
        return None
    return stress_function(
        judge,
        solution,
        plan.brute,
        plan.calls,
        samples=tests,
        seconds=options.seconds,
        limits=limits,
        cancel=cancel,
        entry_point=task.function,
    )
