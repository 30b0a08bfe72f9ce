"""Stress tests on HumanEval: do correct solutions stay accepted, and are more wrong ones rejected than by
the samples alone?

    .venv/bin/python bench/humaneval_stress.py [--limit N] [--quick] [--mutants K] [--json]

Data: `../shared/datasets/humaneval/HumanEval.jsonl.gz` next to the repository (tests/datasets.py).
Every problem goes through the product's own path: the prompt with a TODO body is read as a task
(codegen/tasks.py, which finds the examples), the candidate is fitted as the judge runs it
(codegen/pipeline.py `runnable_code`, `judge_tests`), and the stress test is the one `solve` runs
(codegen/stressing.py `plan_for` + `stress_candidate`: 200 calls generated from the examples' argument
types by codegen/oracles.py, default 3 s budget, the judge's default limits).

- Correct solutions: prompt + canonical solution, run alone on the product's generated calls (no model
  here, so no model-written brute force): a crash or a time-out on a generated call rejects it. This is
  stricter than `solve`, which runs a function alone on no call (it compares candidates instead) and drops a
  brute force that fails on a call rather than rejecting the candidate; it shows which generated calls fall
  outside a function's domain.
  Those problems whose canonical solution fails the prompt's own examples are left out (known errors in
  the prompts), and counted.
- Wrong solutions: mutants of the canonical solution made deterministically with `ast` (a comparison
  flipped, an integer constant moved by one, `and`/`or` swapped, `min`/`max` swapped, `+`/`-` swapped, a
  `not` dropped, a branch dropped), kept only when they pass the prompt's examples in the judge (so the
  samples alone reject none of them; measured again inside the stress run) and fail the data set's own
  `check` tests (so each kept mutant is certainly wrong). Each is stress-tested twice: with the canonical
  solution as the brute force (it stands in for a correct brute force written by the model or the user)
  and without any oracle (only crashes and time-outs count).
"""

from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import gzip
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codegen.pipeline import judge_tests, run_examples, runnable_code  # noqa: E402
from codegen.stressing import StressOptions, plan_for, stress_candidate  # noqa: E402
from codegen.tasks import Task, extract_tasks  # noqa: E402
from sandbox import Judge, Limits, TestCase, Verdict  # noqa: E402
from sandbox.stress import Program, StressReport, stress_function  # noqa: E402

DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "humaneval" / "HumanEval.jsonl.gz"
MUTANTS_PER_PROBLEM = 2  # wrong solutions kept per problem
MUTANT_TRIES = 400  # mutants tried per problem (all of them in one prefilter run)
ORACLE_NAME = "the canonical solution"
QUICK = ("HumanEval/3", "HumanEval/6", "HumanEval/12", "HumanEval/52")
"""The --quick subset (and tests/test_humaneval_stress.py's): four problems, five wrong solutions."""


# ----------------------------------------------------------------------------------------------------------
# Problems


@dataclass
class Problem:
    """One HumanEval problem read as the product reads it."""

    task_id: str
    entry_point: str
    module: str  # prompt + canonical solution
    test: str  # the data set's `check` function
    task: Task | None  # None when no task was found for the entry point

    def function_code(self, module: str | None = None) -> str:
        """The entry function's own source (what a model's reply would hold), from a module's text."""
        text = module or self.module
        tree = ast.parse(text)
        node = _entry(tree, self.entry_point)
        return ast.get_source_segment(text, node) or ast.unparse(node)


def load_problems(path: Path = DATASET) -> list[dict]:
    """The data set's rows."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def problem_of(row: dict) -> Problem:
    """A row as a Problem: its task is read from the prompt with a TODO body, like a user's file."""
    source = row["prompt"] + "    # TODO: implement\n    pass\n"
    tasks = [t for t in extract_tasks(source, "python") if t.function == row["entry_point"]]
    return Problem(
        row["task_id"],
        row["entry_point"],
        row["prompt"] + row["canonical_solution"],
        row["test"],
        tasks[0] if len(tasks) == 1 else None,
    )


def _entry(tree: ast.Module, name: str) -> ast.FunctionDef:
    """The last top-level definition of the entry function."""
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name][-1]


# ----------------------------------------------------------------------------------------------------------
# Mutants


@dataclass(frozen=True)
class Mutant:
    """A changed canonical solution: which operator at which node, and the whole module's text."""

    operator: str
    site: int
    module: str


_COMPARE_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}


def _flip_compare(node: ast.AST) -> bool:
    """`<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=` on the first operator of a comparison."""
    if isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARE_SWAPS:
        node.ops[0] = _COMPARE_SWAPS[type(node.ops[0])]()
        return True
    return False


def _constant(delta: int) -> Callable[[ast.AST], bool]:
    """An integer constant moved by `delta` (an off-by-one)."""

    def apply(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            node.value += delta
            return True
        return False

    return apply


def _swap_bool(node: ast.AST) -> bool:
    """`and` <-> `or`."""
    if isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return True
    return False


def _swap_min_max(node: ast.AST) -> bool:
    """`min(...)` <-> `max(...)`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("min", "max"):
        node.func.id = "max" if node.func.id == "min" else "min"
        return True
    return False


def _swap_add_sub(node: ast.AST) -> bool:
    """`+` <-> `-` (binary and augmented)."""
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, (ast.Add, ast.Sub)):
        node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
        return True
    return False


def _drop_not(node: ast.AST) -> bool:
    """`not x` -> `not not x` (that is `x` as a bool: the negation dropped)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node.operand = ast.UnaryOp(ast.Not(), node.operand)
        return True
    return False


def _drop_branch(node: ast.AST) -> bool:
    """An `if` whose body never runs (its test made False; an `else` then always runs)."""
    if isinstance(node, ast.If):
        node.test = ast.Constant(False)
        return True
    return False


OPERATORS: dict[str, Callable[[ast.AST], bool]] = {
    "flip comparison": _flip_compare,
    "constant +1": _constant(1),
    "constant -1": _constant(-1),
    "swap and/or": _swap_bool,
    "swap min/max": _swap_min_max,
    "swap +/-": _swap_add_sub,
    "drop not": _drop_not,
    "drop branch": _drop_branch,
}


def mutants(problem: Problem) -> list[Mutant]:
    """Every mutant of the entry function (one operator at one node), in a fixed order shuffled by the
    task id, so that the ones tried first mix the operators."""
    tree = ast.parse(problem.module)
    nodes = list(ast.walk(_entry(tree, problem.entry_point)))
    canonical = ast.unparse(tree)
    out: list[Mutant] = []
    seen = {canonical}
    for site, node in enumerate(nodes):
        for name, apply in OPERATORS.items():
            if not apply(copy.deepcopy(node)):
                continue
            text = _mutated(tree, problem.entry_point, site, apply)
            if text is not None and text not in seen:
                seen.add(text)
                out.append(Mutant(name, site, text))
    random.Random(problem.task_id).shuffle(out)
    return out


def _mutated(tree: ast.Module, entry: str, site: int, apply: Callable[[ast.AST], bool]) -> str | None:
    """The module's text with one operator applied at the site-th node of the entry function, or None."""
    clone = copy.deepcopy(tree)
    node = list(ast.walk(_entry(clone, entry)))[site]
    if not apply(node):
        return None
    ast.fix_missing_locations(clone)
    try:
        return ast.unparse(clone)
    except (ValueError, TypeError, AttributeError):
        return None


# ----------------------------------------------------------------------------------------------------------
# Judging and stress testing through the product's path


def passes_examples(problem: Problem, code: str, judge: Judge) -> bool:
    """Whether a function passes the task's examples in the judge (the product's sample check)."""
    return run_examples(problem.task, code, judge).verdict is Verdict.AC


def passes_hidden_tests(problem: Problem, module: str, judge: Judge) -> bool:
    """Whether a whole module passes the data set's own `check` tests."""
    call = TestCase(problem.task_id, f"check({problem.entry_point})", "None")
    program = module + "\n\n" + problem.test + "\n"
    return judge.run(program, [call]).verdict is Verdict.AC


def stress(problem: Problem, code: str, judge: Judge, oracle: str | None) -> tuple[StressReport | None, list[str]]:
    """Stress-test a candidate that passed the examples on the product's generated calls, and say which
    oracles were dropped as broken. With `oracle` (a module's text) as the brute force this is the
    product's own check (`stress_candidate`); with None, the candidate alone on the same calls, so only a
    crash or a time-out rejects it (`stress_function` with no oracle, as the product runs stdin programs)."""
    task = problem.task
    options = StressOptions()
    plan = plan_for(task, options)
    if plan is None:
        return None, []
    if oracle is None:
        solution = Program(runnable_code(task, code), "python", "the candidate")
        report = stress_function(
            judge, solution, None, plan.calls, samples=judge_tests(task), seconds=options.seconds,
            entry_point=task.function,
        ) if plan.calls else None
        return report, []
    plan.brute = Program(runnable_code(task, problem.function_code(oracle)), "python", ORACLE_NAME)
    report = stress_candidate(task, runnable_code(task, code), judge_tests(task), judge, plan, options)
    return report, plan.broken


# ----------------------------------------------------------------------------------------------------------
# The measurement


@dataclass
class Figures:
    """What was measured; counts, with the rejected problems and reasons for the record."""

    problems: int = 0
    with_examples: int = 0
    canonical_fails_examples: list[str] = field(default_factory=list)
    correct: int = 0
    correct_accepted: int = 0
    correct_rejected: list[dict] = field(default_factory=list)
    wrong: int = 0
    wrong_by_operator: dict[str, int] = field(default_factory=dict)
    samples_rejected: int = 0
    oracle_rejected: int = 0
    oracle_broken: list[dict] = field(default_factory=list)
    oracle_free_rejected: int = 0
    wrong_missed: list[dict] = field(default_factory=list)
    stress_calls: int = 0
    seconds: float = 0.0
    seconds_correct: float = 0.0
    seconds_mutants: float = 0.0
    seconds_wrong: float = 0.0

    def percent(self, part: int, whole: int) -> float:
        """A share in percent, one decimal."""
        return round(100.0 * part / whole, 1) if whole else 0.0

    def summary(self) -> dict:
        """The headline figures."""
        return {
            "correct_accepted": f"{self.correct_accepted}/{self.correct} ({self.percent(self.correct_accepted, self.correct)}%)",
            "wrong_rejected_by_samples": f"{self.samples_rejected}/{self.wrong} ({self.percent(self.samples_rejected, self.wrong)}%)",
            "wrong_rejected_vs_brute_force": f"{self.oracle_rejected}/{self.wrong} ({self.percent(self.oracle_rejected, self.wrong)}%)",
            "wrong_rejected_oracle_free": f"{self.oracle_free_rejected}/{self.wrong} ({self.percent(self.oracle_free_rejected, self.wrong)}%)",
        }


def rejected(report: StressReport | None) -> bool:
    """Whether a stress report rejects the candidate, as the pipeline decides (a broken oracle blames no one)."""
    return report is not None and report.verdict is not Verdict.AC and not report.broken


def measure(
    rows: list[dict],
    *,
    per_problem: int = MUTANTS_PER_PROBLEM,
    tries: int = MUTANT_TRIES,
    judge: Judge | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> Figures:
    """Measure the figures over the rows."""
    judge = judge or Judge()
    figures = Figures(problems=len(rows))
    started = time.monotonic()
    for row in rows:
        problem = problem_of(row)
        if problem.task is None or not problem.task.examples:
            continue
        figures.with_examples += 1
        canonical = problem.function_code()
        if not passes_examples(problem, canonical, judge):
            figures.canonical_fails_examples.append(problem.task_id)
            continue
        _measure_correct(problem, canonical, judge, figures, log)
        _measure_wrong(problem, judge, figures, per_problem, tries, log)
    figures.seconds = time.monotonic() - started
    return figures


def _measure_correct(problem: Problem, code: str, judge: Judge, figures: Figures, log) -> None:
    """Stress-test the canonical solution without an oracle."""
    started = time.monotonic()
    report, _ = stress(problem, code, judge, None)
    figures.seconds_correct += time.monotonic() - started
    figures.correct += 1
    figures.stress_calls += report.runs if report else 0
    if rejected(report):
        found = report.counterexample
        figures.correct_rejected.append(
            {
                "task_id": problem.task_id,
                "verdict": report.verdict.value,
                "input": found.input if found else "",
                "actual": (found.actual if found else report.message)[:300],
            }
        )
        log(f"{problem.task_id}: correct solution rejected: {report.verdict.value} {found.input if found else ''}")
    else:
        figures.correct_accepted += 1


PREFILTER = """import json, signal

def _timeout(*_):
    raise TimeoutError

def _wrong(text, examples, test, entry):
    namespace = {}
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        try:
            exec(text, namespace)
            if not all(eval(call, namespace) == eval(value, namespace) for call, value in examples):
                return False
        except BaseException:
            return False
        try:
            exec(test, namespace)
            namespace["check"](namespace[entry])
        except TimeoutError:
            return False
        except BaseException:
            return True
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)

signal.signal(signal.SIGALRM, _timeout)
DATA = json.loads(%r)
print(json.dumps([i for i, text in enumerate(DATA["mutants"]) if _wrong(text, DATA["examples"], DATA["test"], DATA["entry"])]))
"""
"""One sandboxed run over all of a problem's mutants: the indices of those that give the examples' values
and fail the hidden `check` (a quick in-process filter; the kept ones are then judged properly)."""


def prefiltered(problem: Problem, candidates: list[Mutant], judge: Judge) -> list[int]:
    """Indices of the mutants that look wrong but pass the examples (one judge run for them all)."""
    data = {
        "mutants": [m.module for m in candidates],
        "examples": [(e.input, e.output) for e in problem.task.examples],
        "test": problem.test,
        "entry": problem.entry_point,
    }
    code = PREFILTER % json.dumps(data)
    report = judge.run(code, [TestCase("mutants", "", "")], style="stdin", limits=Limits(time_s=60.0, memory_mb=512))
    try:
        return [int(i) for i in json.loads(report.tests[0].actual)]
    except (ValueError, TypeError, IndexError):
        return []


def wrong_solutions(problem: Problem, judge: Judge, per_problem: int, tries: int) -> tuple[list[Mutant], float]:
    """Mutants that pass the examples and fail the hidden tests in the judge (at most `per_problem`; of the
    first `tries` mutants, those the prefilter picked, in order)."""
    started = time.monotonic()
    candidates = mutants(problem)[:tries]
    kept: list[Mutant] = []
    for index in prefiltered(problem, candidates, judge):
        mutant = candidates[index]
        code = problem.function_code(mutant.module)
        if passes_examples(problem, code, judge) and not passes_hidden_tests(problem, mutant.module, judge):
            kept.append(mutant)
            if len(kept) >= per_problem:
                break
    return kept, time.monotonic() - started


def _measure_wrong(problem: Problem, judge: Judge, figures: Figures, per_problem: int, tries: int, log) -> None:
    """Stress-test each kept mutant against the canonical solution and without an oracle."""
    kept, seconds = wrong_solutions(problem, judge, per_problem, tries)
    figures.seconds_mutants += seconds
    started = time.monotonic()
    for mutant in kept:
        figures.wrong += 1
        figures.wrong_by_operator[mutant.operator] = figures.wrong_by_operator.get(mutant.operator, 0) + 1
        code = problem.function_code(mutant.module)
        with_oracle, broken = stress(problem, code, judge, problem.module)
        without, _ = stress(problem, code, judge, None)
        figures.stress_calls += sum(r.runs for r in (with_oracle, without) if r)
        samples_failed = [r for r in (with_oracle, without) if r and r.message.startswith("Fails sample")]
        figures.samples_rejected += bool(samples_failed)
        figures.oracle_rejected += rejected(with_oracle)
        figures.oracle_free_rejected += rejected(without)
        if broken:
            figures.oracle_broken.append({"task_id": problem.task_id, "message": broken[0][:300]})
        if not rejected(with_oracle):
            figures.wrong_missed.append({"task_id": problem.task_id, "operator": mutant.operator})
        log(
            f"{problem.task_id} [{mutant.operator}]: vs brute force "
            f"{with_oracle.verdict.value if with_oracle else '-'}, oracle-free {without.verdict.value if without else '-'}"
        )
    figures.seconds_wrong += time.monotonic() - started


# ----------------------------------------------------------------------------------------------------------
# The command


def select(rows: list[dict], limit: int | None, quick: bool) -> list[dict]:
    """The rows to measure: the --quick subset, or the first --limit ones, or all."""
    if quick:
        return [r for r in rows if r["task_id"] in QUICK]
    return rows[:limit] if limit else rows


def table(figures: Figures) -> str:
    """The figures as text."""
    f = figures
    lines = [
        f"problems: {f.problems}, with examples: {f.with_examples}, canonical solution fails its own examples: "
        f"{len(f.canonical_fails_examples)} ({', '.join(f.canonical_fails_examples) or '-'})",
        f"correct solutions accepted (no oracle): {f.correct_accepted}/{f.correct} ({f.percent(f.correct_accepted, f.correct)}%)",
    ]
    for item in f.correct_rejected:
        lines.append(f"  rejected {item['task_id']}: {item['verdict']} on {item['input']} -> {item['actual'][:120]}")
    lines += [
        f"wrong solutions (pass the examples, fail the hidden tests): {f.wrong} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(f.wrong_by_operator.items()))})",
        f"  rejected by the samples alone: {f.samples_rejected} ({f.percent(f.samples_rejected, f.wrong)}%)",
        f"  rejected vs the canonical solution as brute force: {f.oracle_rejected} ({f.percent(f.oracle_rejected, f.wrong)}%)"
        f", broken oracle: {len(f.oracle_broken)}",
        f"  rejected with no oracle (crash/time-out only): {f.oracle_free_rejected} ({f.percent(f.oracle_free_rejected, f.wrong)}%)",
        f"stress calls run: {f.stress_calls}; seconds: {f.seconds:.0f} in total (correct {f.seconds_correct:.0f}, "
        f"making mutants {f.seconds_mutants:.0f}, wrong {f.seconds_wrong:.0f})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems")
    parser.add_argument("--quick", action="store_true", help=f"only the {len(QUICK)} problems of the CI subset")
    parser.add_argument("--mutants", type=int, default=MUTANTS_PER_PROBLEM, help="wrong solutions kept per problem")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--verbose", action="store_true", help="a line per problem on stderr")
    args = parser.parse_args(argv)
    if not DATASET.exists():
        print(f"HumanEval is not at {DATASET}; nothing to measure.", file=sys.stderr)
        return 2
    rows = select(load_problems(), args.limit, args.quick)
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.verbose else (lambda _: None)
    figures = measure(rows, per_problem=args.mutants, log=log)
    if args.json:
        print(json.dumps({"summary": figures.summary(), **dataclasses.asdict(figures)}, indent=2))
    else:
        print(table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
