"""Stress tests in the solve path: which oracle and inputs a task's candidates are checked against, and the
check of one candidate that passed the examples.

Oracles, best first: the user's brute force and generator next to the file (codegen/stress_files.py); else,
with `model_oracle`, a brute force and a generator asked from the model in separate chats submitted together
with the candidates (`Engine.chat_alongside`: concurrent requests to a model server; right after the
candidates' batch on the in-process model); else the candidates' agreement with each other. Function-style
inputs are generated from the examples' argument types (codegen/oracles.py `function_calls`), stdin inputs
come from the generator; the statement's constraints (codegen/constraints.py) give the size to time at.

An oracle is checked before it is believed (sandbox/stress.py): a brute force that fails a sample, crashes
or times out is reported as broken and dropped for the rest of the solve (never blamed on a candidate), and
the candidates are then compared with each other instead; a broken generator is dropped the same way.

Without a brute force a candidate that passed the samples is not rejected by its outputs alone: its
outputs on the generated inputs are compared with the other candidates' (`agreement_ranking`), and those
that disagree with the largest agreeing group are ranked down. A stdin program is still run on the
generator's inputs without an oracle (a crash, or a time-out at the maximum size, rejects it); a function
is not, since calls generated from the examples may break preconditions the statement does not state.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

from codegen.backends.base import GenerationParams
from codegen.engine import Cancelled, Engine, Job, Priority
from codegen.tasks import Task
from sandbox import Judge, Limits, TestCase
from sandbox.stress import Program, StressReport, outputs_on, stress_function, stress_stdin

FUNCTION_CALLS = 200  # generated calls per function-style stress test
AGREEMENT_INPUTS = 100  # inputs the candidates' outputs are compared on when there is no brute force
AGREEMENT_SIZES = 10  # stdin: generated inputs of sizes 1..10 for the comparison


@dataclass(frozen=True)
class StressOptions:
    """How candidates are stress-tested (the `verification.*` settings)."""

    seconds: float = 3.0
    runs: int = 300
    model_oracle: bool = True  # the `verification.modelOracle` setting, on by default


@dataclass
class StressPlan:
    """What one task's candidates are stress-tested against; model oracles arrive later (their jobs)."""

    brute: Program | None = None
    generator: Program | None = None
    calls: list[str] = field(default_factory=list)
    max_n: int | None = None
    jobs: dict[str, Job] = field(default_factory=dict)
    broken: list[str] = field(
        default_factory=list
    )  # why an oracle or generator was dropped, one sentence each
    agreement_inputs: list[str] | None = None  # computed once, on the first candidate compared by agreement
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def can_agree(self, task: Task) -> bool:
        """Whether candidates can be compared with each other: inputs exist (generated calls, or a generator
        for a stdin program)."""
        return bool(self.calls) if task.style == "function" else self.generator is not None

    def wants_model(self, task: Task) -> dict[str, bool]:
        """Which programs to ask the model for: a brute force (for a function only when there are calls to
        compare it on), and a generator for a stdin program."""
        useful = task.style == "stdin" or bool(self.calls)
        return {
            "brute": self.brute is None and useful,
            "gen": task.style == "stdin" and self.generator is None,
        }


def plan_for(task: Task, options: StressOptions) -> StressPlan | None:
    """The user's oracles, the generated calls and the maximum size of a task; None when it cannot be
    stress-tested (a method of a class, a language the stress loop does not run, or nothing to test with:
    for a stdin program no generator next to the file and `model_oracle` off; for a function no brute force,
    `model_oracle` off and no calls generated from its examples)."""
    if task.language not in ("python", "cpp") or task.class_name is not None:
        return None
    plan = StressPlan()
    if task.path is not None:
        from codegen.stress_files import find_user_oracles, load_program

        found = find_user_oracles(task.path)
        plan.brute = load_program(found.brute) if found.brute else None
        plan.generator = load_program(found.generator) if found.generator else None
    if task.style == "function":
        from codegen.oracles import function_calls

        plan.calls = function_calls(task, FUNCTION_CALLS) if task.function else []
        if plan.brute is None and not plan.calls and not options.model_oracle:
            return None
    else:
        if plan.generator is None and not options.model_oracle:
            return None
        from codegen.constraints import read_constraints

        plan.max_n = read_constraints(task.file_text or task.docstring).max_n
    return plan


def request_model_oracles(
    plan: StressPlan, task: Task, engine: Engine, params: GenerationParams, system_prompt: str | None
) -> None:
    """Ask the model for the missing brute force and (stdin) generator, one reply each, alongside the
    candidates: concurrent requests to a model server; on the in-process model, queued right after the
    candidates' batch (`Engine.chat_alongside`). The replies are awaited only when a candidate has passed the
    samples and needs them."""
    from codegen.oracles import brute_force_messages, generator_messages

    one = dataclasses.replace(params, n=1, prompt_lookup_num_tokens=0)
    wanted = plan.wants_model(task)
    if wanted["brute"]:
        plan.jobs["brute"] = engine.chat_alongside(
            brute_force_messages(task, system_prompt), one, Priority.BACKGROUND
        )
    if wanted["gen"]:
        plan.jobs["gen"] = engine.chat_alongside(
            generator_messages(task, system_prompt), one, Priority.BACKGROUND
        )


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
    nothing to test it with (no brute force for a function, no generator for a stdin program).

    A broken brute force or generator is dropped from the plan (`plan.broken` says why) and the candidate is
    tested again without it, so the next candidates do not meet it and no candidate is blamed for it."""
    _collect(plan, task, cancel)
    solution = Program(program_code, task.language, "the candidate")
    for _ in range(3):  # at most: the oracle dropped, then the generator dropped
        report = _stress_once(task, solution, tests, judge, plan, options, limits, cancel)
        if report is None or not report.broken:
            return report
        plan.broken.append(report.message.split("\n", 1)[0])
        if report.broken == "oracle" and plan.brute is not None:
            plan.brute = None
        elif report.broken == "generator" and plan.generator is not None:
            plan.generator = None
        else:
            return report
    return None


def _stress_once(task, solution, tests, judge, plan, options, limits, cancel) -> StressReport | None:
    """One stress test of a candidate with what the plan holds now."""
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
    if plan.brute is None or not plan.calls:
        return None  # generated calls without a brute force: the candidates are compared instead
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


def candidate_outputs(
    task: Task, program_code: str, judge: Judge, plan: StressPlan, limits: Limits | None = None
) -> list[str | None]:
    """A candidate's outputs on the plan's agreement inputs (None where it crashed or timed out), for
    comparing candidates when there is no brute force."""
    inputs = agreement_inputs(task, judge, plan, limits)
    program = Program(program_code, task.language, "the candidate")
    style = "function" if task.style == "function" else "stdin"
    return outputs_on(judge, program, inputs, style=style, limits=limits, entry_point=task.function)


def agreement_inputs(task: Task, judge: Judge, plan: StressPlan, limits: Limits | None = None) -> list[str]:
    """The inputs candidates are compared on (computed once per plan): the first generated calls of a
    function, or inputs of growing size printed by the generator of a stdin program."""
    if plan.agreement_inputs is None:
        if task.style == "function":
            plan.agreement_inputs = plan.calls[:AGREEMENT_INPUTS]
        elif plan.generator is not None:
            plan.agreement_inputs = generated_inputs(judge, plan.generator, AGREEMENT_INPUTS, limits)
        else:
            plan.agreement_inputs = []
    return plan.agreement_inputs


def generated_inputs(judge: Judge, generator: Program, count: int, limits: Limits | None = None) -> list[str]:
    """Inputs the generator prints for `gen SEED N` (seeds 1.., sizes growing 1..10), duplicates dropped;
    those it failed on are left out."""
    from sandbox.stress import Session

    items = [
        {"seed": k + 1, "n": min(AGREEMENT_SIZES, 1 + k * AGREEMENT_SIZES // count)} for k in range(count)
    ]
    with Session(judge, limits or judge.limits, "stdin", None, 0.0, None) as session:
        if session.prepare({"gen": generator}) is not None:
            return []
        records = session.run_all(items, record="all", roles=["gen"])
    if isinstance(records, StressReport):
        return []
    texts = [r.get("input") for r in sorted(records, key=lambda r: r["i"]) if r.get("status") == "same"]
    return list(dict.fromkeys(t for t in texts if isinstance(t, str)))
