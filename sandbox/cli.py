"""`vibethinker-lsp judge SOLUTION --tests DIR`: judge a solution file on NAME.in / NAME.out (or .ans) pairs.

Without --tests, the samples and limits Competitive Companion stored beside the solution
(`.cph/.<file>_<hash>.prob`) are used. Exit status: 0 AC, 1 any other verdict, 2 bad usage or missing files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

from sandbox.isolation import LEVELS, IsolationUnavailable
from sandbox.judge import Judge
from sandbox.verdicts import Limits, Report, TestCase, Verdict

EXTENSIONS = {".py": "python", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".c++": "cpp"}


class UsageError(Exception):
    """Bad usage or missing files, said in one sentence."""


def add_judge_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `judge` command's arguments to a parser."""
    parser.add_argument("solution", help="the solution file (.py or .cpp)")
    parser.add_argument("--tests", metavar="DIR", help="folder of NAME.in with NAME.out or NAME.ans")
    parser.add_argument(
        "--lang", choices=sorted(set(EXTENSIONS.values())), help="default: from the extension"
    )
    parser.add_argument("--time-limit", type=float, metavar="S", help="CPU seconds per test (default 2)")
    parser.add_argument("--memory-limit", type=int, metavar="MB", help="memory per test (default 256)")
    parser.add_argument("--isolation", choices=LEVELS, default="auto", help="sandbox level (default auto)")
    parser.add_argument("--python", help="interpreter for Python solutions (default: this one)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run_judge(args: argparse.Namespace) -> int:
    """Judge the solution and print the report; return the exit status."""
    try:
        solution = Path(args.solution)
        if not solution.is_file():
            raise UsageError(f"The solution file {solution} does not exist.")
        language = args.lang or language_of(solution)
        tests, problem_limits = load_tests(solution, args.tests)
        limits = choose_limits(args, problem_limits)
        judge = Judge(limits, python=args.python, isolation=args.isolation)
    except (UsageError, IsolationUnavailable) as exc:
        print(f"vibethinker-lsp judge: {exc}", file=sys.stderr)
        return 2
    report = judge.run(solution.read_text(encoding="utf-8"), tests, language=language, style="stdin")
    print(json.dumps(report.to_json(), indent=2) if args.json else render(report))
    return 0 if report.verdict is Verdict.AC else 1


def language_of(solution: Path) -> str:
    """The language named by the file's extension."""
    language = EXTENSIONS.get(solution.suffix.lower())
    if language is None:
        raise UsageError(f"Cannot tell the language of {solution.name}; pass --lang python or --lang cpp.")
    return language


def load_tests(solution: Path, folder: str | None) -> tuple[list[TestCase], Limits | None]:
    """The tests from --tests DIR, or the stored Competitive Companion samples (with their limits)."""
    if folder is None:
        return companion_tests(solution)
    directory = Path(folder)
    if not directory.is_dir():
        raise UsageError(f"The tests folder {directory} does not exist.")
    tests = []
    for source in sorted(directory.glob("*.in"), key=natural_key):
        answer = next(
            (p for p in (source.with_suffix(".out"), source.with_suffix(".ans")) if p.is_file()), None
        )
        if answer is None:
            raise UsageError(
                f"The test {source.name} has no {source.stem}.out or {source.stem}.ans beside it."
            )
        tests.append(TestCase(source.stem, read(source), read(answer)))
    if not tests:
        raise UsageError(f"The folder {directory} holds no NAME.in test files.")
    return tests, None


def companion_tests(solution: Path) -> tuple[list[TestCase], Limits | None]:
    """Samples and limits stored by Competitive Companion for this solution."""
    prob = find_problem_file(solution)
    if prob is None:
        raise UsageError(
            f"No --tests folder given and no stored samples for {solution.name}; pass --tests DIR."
        )
    try:
        data = json.loads(prob.read_text(encoding="utf-8"))
        tests = [
            TestCase(str(t.get("id", i + 1)), t["input"], t["output"]) for i, t in enumerate(data["tests"])
        ]
        limits = Limits(time_s=data["timeLimit"] / 1000, memory_mb=int(data["memoryLimit"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"The stored problem {prob} is unreadable ({exc}); pass --tests DIR.") from exc
    if not tests:
        raise UsageError(f"The stored problem {prob} has no samples; pass --tests DIR.")
    return tests, limits


def problem_file(source: Path) -> Path:
    """Where the Competitive Programming Helper layout keeps a source file's stored problem."""
    source = source.resolve()
    digest = hashlib.md5(str(source).encode()).hexdigest()
    return source.parent / ".cph" / f".{source.name}_{digest}.prob"


def find_problem_file(source: Path) -> Path | None:
    """The stored problem of a source file, if there is one."""
    exact = problem_file(source)
    if exact.is_file():
        return exact
    matches = sorted(source.resolve().parent.glob(f".cph/.{source.name}_*.prob"))
    return matches[0] if matches else None


def choose_limits(args: argparse.Namespace, problem: Limits | None) -> Limits:
    """Command-line limits first, then the problem's, then the defaults."""
    base = problem or Limits()
    time_s = args.time_limit if args.time_limit is not None else base.time_s
    memory = args.memory_limit if args.memory_limit is not None else base.memory_mb
    if time_s <= 0 or memory <= 0:
        raise UsageError("The time and memory limits must be positive.")
    return Limits(time_s=time_s, memory_mb=memory)


def render(report: Report) -> str:
    """A small table of the tests, the failing example and the overall verdict."""
    lines = [f"{'test':<16} {'verdict':<8} {'time':>9} {'memory':>9}"]
    for test in report.tests:
        lines.append(
            f"{test.name:<16} {test.verdict.value:<8} {test.time_ms:>7.0f}ms {test.memory_mb:>7.1f}MB"
        )
    failure = report.first_failure
    if failure is not None:
        lines += ["", failure.describe()]
    if report.compile_output and report.verdict is Verdict.CE:
        lines += ["", report.compile_output]
    if report.message and report.verdict in (Verdict.CE, Verdict.IE):
        lines += ["", report.message]
    lines += [
        "",
        f"{report.verdict.value}  ({report.passed}/{report.total} passed; isolation: {report.isolation})",
    ]
    return "\n".join(lines)


def natural_key(path: Path) -> list:
    """Sort 2.in before 10.in."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]


def read(path: Path) -> str:
    """A test file's text (bytes that are not UTF-8 replaced)."""
    return path.read_bytes().decode("utf-8", "replace")


def main(argv: list[str] | None = None) -> int:
    """Run the judge command on its own (`python -m sandbox.cli`)."""
    parser = argparse.ArgumentParser(prog="vibethinker-lsp judge", description=__doc__.splitlines()[0])
    add_judge_arguments(parser)
    return run_judge(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
