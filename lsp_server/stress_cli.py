"""`vibethinker-lsp stress SOLUTION`: stress-test a solution against a brute force on generated inputs.

The brute force and the generator are `--brute`/`--gen`, else the files next to the solution
(codegen/stress_files.py), else written by the model (settings as for `solve`). A stdin program gets its
inputs from the generator (`gen SEED N`), its samples from the file's statement or sample files, and its
maximum size from the statement's constraints (or `--max-n`). A function is called on inputs generated
from its examples' argument types. Exit status: 0 nothing found, 1 a counterexample or TLE, 2 bad usage or
a broken brute force or generator.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from codegen.stress_files import find_user_oracles, load_program
from sandbox.stress import Program, StressReport
from sandbox.verdicts import Limits, TestCase, Verdict

DEFAULT_RUNS = 300
DEFAULT_SECONDS = 3.0


class UsageError(Exception):
    """Bad usage or missing files, said in one sentence."""


@dataclasses.dataclass
class Problem:
    """What the stress test needs to know about the solution's problem."""

    style: str  # "stdin" | "function"
    samples: list[TestCase]
    max_n: int | None
    task: object  # the codegen Task (for the model's brute force / generator, and function-style inputs)
    entry_point: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The stress command's own arguments (the model's come from the CLI's shared set)."""
    parser.add_argument("solution", type=Path, help="the solution file (.py or .cpp)")
    parser.add_argument(
        "--brute", type=Path, metavar="FILE", help="brute force (default: brute.py/.cpp beside)"
    )
    parser.add_argument(
        "--gen", type=Path, metavar="FILE", help="generator run as `gen SEED N` (default: gen.py/.cpp beside)"
    )
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, metavar="N", help="most small inputs (default 300)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        metavar="S",
        help="time for the small inputs (default 3)",
    )
    parser.add_argument(
        "--max-n", type=int, metavar="N", help="size to time at (default: read from the statement)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    """Stress-test the solution and print the report; return the exit status."""
    from sandbox.isolation import IsolationUnavailable

    try:
        report = stress_file(args)
    except (UsageError, IsolationUnavailable) as exc:
        print(f"vibethinker-lsp stress: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_json(), indent=2) if args.json else render(report))
    if report.verdict is Verdict.AC:
        return 0
    if report.broken or report.verdict is Verdict.IE:
        return 2
    return 1


def stress_file(args: argparse.Namespace) -> StressReport:
    """Read the files, find or write the oracles, and run the stress test."""
    from lsp_server.cli import settings_from_args
    from lsp_server.solving import make_judge, warn_on_stderr
    from sandbox.stress import stress_function, stress_stdin

    if args.runs < 1 or args.seconds <= 0:
        raise UsageError("--runs must be at least 1 and --seconds positive.")
    solution = program_at(args.solution)
    problem = read_problem(args.solution, solution)
    limits = choose_limits(args, problem)
    settings = settings_from_args(args)
    judge = make_judge(settings, warn_on_stderr, limits)
    found = find_user_oracles(args.solution)
    brute = program_at(args.brute) if args.brute else program_at(found.brute) if found.brute else None
    generator = program_at(args.gen) if args.gen else program_at(found.generator) if found.generator else None
    need_generator = problem.style == "stdin" and generator is None
    if brute is None or need_generator:
        brute, generator = model_oracles(settings, problem, brute, generator, need_generator)
    if problem.style == "stdin":
        return stress_stdin(
            judge,
            solution,
            brute,
            generator,
            samples=problem.samples,
            runs=args.runs,
            seconds=args.seconds,
            max_n=args.max_n or problem.max_n,
            limits=limits,
        )
    calls = function_calls(problem.task, args.runs)
    if not calls:
        raise UsageError(
            f"No inputs could be generated for {problem.entry_point}: its examples give no argument types."
        )
    return stress_function(
        judge,
        solution,
        brute,
        calls,
        samples=problem.samples,
        seconds=args.seconds,
        limits=limits,
        entry_point=problem.entry_point,
    )


def program_at(path: Path) -> Program:
    """A program read from a file, or a UsageError."""
    try:
        return load_program(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def read_problem(path: Path, solution: Program) -> Problem:
    """The style, samples and maximum size of the solution's problem, read from the file and its samples."""
    from codegen.constraints import read_constraints
    from codegen.tasks import SourceFile, program_task

    source = SourceFile(solution.code, solution.language, path.resolve())
    if not source.is_program:
        task = function_task(source)
        if task is not None:
            from codegen.pipeline import judge_tests

            return Problem("function", judge_tests(task), None, task, task.function)
        if solution.language == "python":
            raise UsageError(
                f"{path.name} neither reads standard input nor has a function with examples to stress-test."
            )
    task = program_task(source)
    samples = [TestCase(f"sample {i}", e.input, e.output) for i, e in enumerate(task.examples, 1)]
    return Problem("stdin", samples, read_constraints(source.module_doc).max_n, task)


def function_task(source):
    """The first function of the file that has examples, as a task (None when none has)."""
    from codegen.geometry import Position
    from codegen.tasks import function_at

    captures = source.q.captures("function", source.tree.root_node)
    for node in sorted(captures.get("function", []), key=lambda n: n.start_byte):
        row, column = node.start_point
        task = function_at(source.text, source.language, Position(row, column), source=source)
        if task is not None and task.examples and task.function not in ("main",):
            return task
    return None


def choose_limits(args: argparse.Namespace, problem: Problem) -> Limits:
    """--time-limit/--memory-limit first, then the problem's (a .cph file or the statement), then defaults."""
    from codegen.statement import statement_limits

    task = problem.task
    time_ms, memory_mb = getattr(task, "time_limit_ms", None), getattr(task, "memory_limit_mb", None)
    if not time_ms or not memory_mb:
        stated_ms, stated_mb = statement_limits(getattr(task, "docstring", "") or "")
        time_ms, memory_mb = time_ms or stated_ms, memory_mb or stated_mb
    base = Limits()
    time_s = args.time_limit if args.time_limit is not None else (time_ms / 1000 if time_ms else base.time_s)
    memory = args.memory_limit if args.memory_limit is not None else memory_mb or base.memory_mb
    if time_s <= 0 or memory <= 0:
        raise UsageError("The time and memory limits must be positive.")
    return Limits(time_s=time_s, memory_mb=memory)


def function_calls(task, count: int) -> list[str]:
    """Calls generated from the examples' argument types (codegen/oracles.py)."""
    try:
        from codegen.oracles import function_calls as generate
    except ImportError:
        raise UsageError("function-style stress tests need codegen/oracles.py, which is missing.") from None
    return generate(task, count)


def model_oracles(settings, problem: Problem, brute, generator, need_generator: bool):
    """Ask the model for the missing brute force (and generator), both in one batch; UsageError when it
    cannot be reached or writes no code."""
    try:
        from codegen.oracles import brute_force_messages, generator_messages, program_from_reply
    except ImportError:
        missing = "brute force (brute.py / brute.cpp, or --brute FILE)" if brute is None else ""
        if need_generator:
            missing += (" and no " if missing else "") + "generator (gen.py / gen.cpp, or --gen FILE)"
        raise UsageError(f"There is no {missing} next to the solution, and no model to write one.") from None
    from codegen.backends.base import BackendError
    from codegen.engine import Engine, replace_n
    from lsp_server.solving import print_status

    system = settings.generation.system_prompt or None
    engine = Engine(settings.model_config(), on_status=print_status)
    params = replace_n(settings.generation_params(), 1)
    print("Asking the model for what is missing ...", file=sys.stderr)
    try:
        jobs = {}
        if brute is None:
            jobs["brute"] = engine.chat(brute_force_messages(problem.task, system), params)
        if need_generator:
            jobs["gen"] = engine.chat(generator_messages(problem.task, system), params)
        replies = {role: (job.future.result() or [""])[0] for role, job in jobs.items()}
    except BackendError as exc:
        raise UsageError(str(exc)) from None
    finally:
        engine.close()
    language = problem.task.language
    if "brute" in replies:
        brute = program_from_reply(replies["brute"], language, "the model's brute force")
        if brute is None:
            raise UsageError("The model wrote no brute force (no code block); pass --brute FILE.")
    if "gen" in replies:
        generator = program_from_reply(replies["gen"], language, "the model's generator")
        if generator is None:
            raise UsageError("The model wrote no generator (no code block); pass --gen FILE.")
    return brute, generator


def render(report: StressReport) -> str:
    """The report for people: verdict, what was checked, the counterexample."""
    lines = [f"{report.verdict.value}: {report.describe()}"]
    if report.message:
        lines.append(report.message)
    counter = report.counterexample
    if counter is not None:
        for label, text in (
            ("input", counter.input),
            ("expected", counter.expected),
            ("actual", counter.actual),
        ):
            lines.append(f"{label}:")
            lines.extend(f"  {line}" for line in clip_lines(text))
    return "\n".join(lines)


def clip_lines(text: str, limit: int = 40) -> list[str]:
    """A text's first lines, with a note of how many were left out."""
    lines = text.rstrip("\n").split("\n")
    if len(lines) <= limit:
        return lines
    return lines[:limit] + [f"... ({len(lines) - limit} more lines)"]
