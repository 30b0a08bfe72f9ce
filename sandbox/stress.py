"""Stress tests: a solution against an oracle (a brute force) on many small generated inputs, then once at
the maximum size against the time limit.

- Stdin programs get their inputs from a generator run as `gen SEED N` (the testlib / oj convention: one
  input on stdout, deterministic for a seed, N a size bound). Sizes start at 1 and grow; the run stops at
  the first input on which the solution differs from the oracle (or fails), then looks for a smaller one.
- Function-style solutions are called on given call expressions, shortest first.
- An oracle is checked before it is believed: it must pass the samples, and one that crashes or is too
  slow on the smallest inputs is reported as broken (`broken="oracle"`), never blamed on the solution. A
  generator that crashes or prints the same input for different seeds is reported the same way.
- Many inputs share one sandbox start: the stress loop (sandbox/stress_loop.py) runs inside the sandbox as
  one program and forks a child per input, under the judge's per-input limits and isolation.

Knows nothing of models or editors, like the rest of the sandbox.
"""

from __future__ import annotations

import base64
import marshal
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sandbox import cpp
from sandbox.compare import values_match
from sandbox.isolation import WORK
from sandbox.judge import Judge, Run, base_result, classify, exit_message, write, write_bytes
from sandbox.verdicts import Limits, TestCase, Verdict

SMALL_N = 10  # the largest size bound of the small stress inputs
PER_SIZE = 10  # inputs per size while the sizes grow (then the rest at SMALL_N)
SHRINK_PER_SIZE = 8  # inputs per smaller size tried after a counterexample
BATCH_S = 1.0  # at most this long per sandbox start, so that a cancel is noticed soon
RESULT_MB = 64  # the loop's own output limit (its records)
GEN_TIME_S = 5.0  # CPU seconds a generator may take for one small input
MAX_GEN_TIME_S = 20.0  # ... and for the input at the maximum size
LOOP_SLACK_S = 5.0
SHOWN_INPUT = 100_000  # a counterexample input longer than this is described, not shown
MIB = 1024 * 1024


@dataclass(frozen=True)
class Program:
    """A runnable program or function module."""

    code: str
    language: str  # "python" | "cpp"
    name: str = "solution"  # for messages: "brute.py", "the model's brute force", "gen.cpp"


@dataclass
class Counterexample:
    """An input on which the solution and the oracle disagree (or the solution fails)."""

    input: str  # stdin text, or the call expression for function style
    expected: str
    actual: str
    verdict: Verdict  # the solution's verdict on it (WA, RE, TLE, ...)

    def to_json(self) -> dict:
        """The counterexample as `stress --json` prints it."""
        return {"input": self.input, "expected": self.expected, "actual": self.actual}


@dataclass
class MaxSize:
    """The run at the statement's maximum size: the size bound and the CPU seconds it took."""

    n: int
    seconds: float

    def to_json(self) -> dict:
        """The run as `stress --json` prints it."""
        return {"n": self.n, "seconds": round(self.seconds, 3)}


@dataclass
class StressReport:
    """What a stress test found.

    verdict: AC when nothing was found; WA/RE/TLE/MLE/OLE with a counterexample; TLE with `max_size` when
    the solution is right but too slow at the maximum size; CE when the solution does not compile; IE when
    the oracle or the generator is broken (`broken` says which) or the sandbox failed.
    """

    verdict: Verdict
    runs: int
    oracle: str  # e.g. "brute force (brute.py)", "the model's brute force", "none"
    counterexample: Counterexample | None = None
    max_size: MaxSize | None = None
    message: str = ""
    broken: str | None = None  # "oracle" | "generator" | None

    def to_json(self) -> dict:
        """The report as `stress --json` prints it."""
        return {
            "verdict": self.verdict.value,
            "runs": self.runs,
            "oracle": self.oracle,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
            "max_size": self.max_size.to_json() if self.max_size else None,
            "message": self.message,
        }

    def describe(self) -> str:
        """One line on what was checked, e.g. "300 stress tests vs brute force (brute.py), n=2e5 in 0.4 s"."""
        text = f"{self.runs} stress test{'s' if self.runs != 1 else ''}"
        if self.oracle and self.oracle != "none":
            text += f" vs {self.oracle}"
        if self.max_size is not None:
            over = "over" if self.verdict is Verdict.TLE else "in"
            text += f", n={short_number(self.max_size.n)} {over} {self.max_size.seconds:.2g} s"
        return text


def short_number(n: int) -> str:
    """2e5 for 200000, 1.5e5 for 150000; small numbers as they are."""
    if n < 10_000:
        return str(n)
    exponent = len(str(n)) - 1
    mantissa = n / 10**exponent
    return f"{mantissa:g}e{exponent}" if round(mantissa, 3) == mantissa else str(n)


def oracle_label(oracle: Program | None) -> str:
    """How the oracle is named in reports."""
    if oracle is None:
        return "none"
    if oracle.name in ("", "solution"):
        return "brute force"
    if oracle.name.startswith(("the ", "brute force", "agreement")):
        return oracle.name
    return f"brute force ({oracle.name})"


# --- the public entry points ----------------------------------------------------------------------------


def stress_stdin(
    judge: Judge,
    solution: Program,
    oracle: Program | None,
    generator: Program,
    *,
    samples: Sequence[TestCase] = (),
    runs: int = 300,
    seconds: float = 3.0,
    max_n: int | None = None,
    limits: Limits | None = None,
    cancel: threading.Event | None = None,
    small_n: int = SMALL_N,
    tolerance: float = 1e-6,
) -> StressReport:
    """Stress-test a stdin program: samples, then `runs` generated inputs of growing size within `seconds`,
    then (with max_n) one run at the maximum size against the time limit."""
    with Session(judge, limits or judge.limits, "stdin", oracle, tolerance, cancel) as session:
        found = session.prepare({"solution": solution, "oracle": oracle, "gen": generator})
        found = found or session.check_samples(samples)
        found = found or session.random_inputs(runs, seconds, small_n)
        if found is None and max_n:
            found = session.maximum_size(max_n)
        return found or session.report(Verdict.AC)


def stress_function(
    judge: Judge,
    solution: Program,
    oracle: Program | None,
    calls: list[str],
    *,
    samples: Sequence[TestCase] = (),
    seconds: float = 3.0,
    limits: Limits | None = None,
    cancel: threading.Event | None = None,
    entry_point: str | None = None,
    tolerance: float = 1e-6,
) -> StressReport:
    """Stress-test a function: samples, then the calls (shortest first) within `seconds`, comparing the
    returned values with the oracle's."""
    ordered = sorted(dict.fromkeys(calls), key=len)
    for program in (solution, oracle):
        if program is not None and program.language == "cpp":
            ordered = [call for call in ordered if translatable(program.code, call, entry_point)]
    all_calls = [t.input for t in samples] + ordered
    with Session(judge, limits or judge.limits, "function", oracle, tolerance, cancel) as session:
        session.entry_point = entry_point
        session.calls = all_calls
        found = session.prepare({"solution": solution, "oracle": oracle})
        found = found or session.check_samples(samples)
        found = found or session.given_calls(ordered, len(samples), seconds)
        return found or session.report(Verdict.AC)


def translatable(code: str, call: str, entry_point: str | None) -> bool:
    """Whether a call's arguments can be written as C++ values of the function's parameter types (a call
    that cannot is dropped from a C++ stress test rather than failing the whole harness)."""
    if isinstance(cpp.function_program(code, [TestCase("call", call, "None")], entry_point), str):
        return False
    name, args, kwargs = cpp.parse_call(call)
    signature = cpp.find_signature(code, entry_point or name) or cpp.find_signature(code, name)
    values = list(kwargs.values()) if kwargs else args
    return signature is not None and all(fits(v, t) for v, t in zip(values, signature.params, strict=False))


def fits(value: object, ctype: str) -> bool:
    """Whether a Python value initialises a C++ variable of the type without a narrowing error (a float for
    an integer, a list for a scalar); types it does not know are given the benefit of the doubt."""
    element = re.match(r"^(?:std::)?vector\s*<\s*(.*)\s*>$", ctype)
    if element:
        return isinstance(value, list | tuple) and all(fits(v, element.group(1)) for v in value)
    if isinstance(value, list | tuple | dict | set):
        return False
    if re.search(r"\b(int|long|short|size_t|int\d+_t|uint\d+_t|unsigned)\b", ctype):
        return isinstance(value, int)
    if re.search(r"\b(double|float)\b", ctype):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if re.search(r"\bstring\b", ctype):
        return isinstance(value, str)
    return True


def generated_inputs(
    judge: Judge, generator: Program, sizes: Sequence[tuple[int, int]], *, limits: Limits | None = None
) -> list[str | None]:
    """What the generator prints for `gen SEED N`, for each (seed, n) in order; None where it failed (or
    did not compile)."""
    items = [{"seed": seed, "n": n} for seed, n in sizes]
    texts: list[str | None] = [None] * len(items)
    if not items:
        return texts
    with Session(judge, limits or judge.limits, "stdin", None, 0.0, None) as session:
        if session.prepare({"gen": generator}) is not None:
            return texts
        records = session.run_all(items, record="all", roles=["gen"])
    for record in records if isinstance(records, list) else []:
        if record["status"] == "same":
            texts[record["i"]] = record["input"]
    return texts


def outputs_on(
    judge: Judge,
    program: Program,
    inputs: list[str],
    *,
    style: str,
    limits: Limits | None = None,
    entry_point: str | None = None,
) -> list[str | None]:
    """The program's raw outputs on the inputs (stdin texts, or calls for function style; for a function
    the value's repr), None where it crashed, timed out or did not compile. For candidate agreement."""
    if not inputs:
        return []
    with Session(judge, limits or judge.limits, style, None, 0.0, None) as session:
        session.entry_point = entry_point
        session.calls = list(inputs)
        if session.prepare({"solution": program}) is not None:
            return [None] * len(inputs)
        items = [session.item(text, i) for i, text in enumerate(inputs)]
        records = session.run_all(items, record="all")
    outputs: list[str | None] = [None] * len(inputs)
    for record in records if isinstance(records, list) else []:
        raw = (record.get("raws") or {}).get("solution")
        if raw is not None and record["status"] == "same":
            outputs[record["i"]] = session.answer(raw, "solution")
    return outputs


# --- a stress session -----------------------------------------------------------------------------------


class Session:
    """One stress test: a private job folder with the prepared programs, and what was found so far."""

    def __init__(
        self,
        judge: Judge,
        limits: Limits,
        style: str,
        oracle: Program | None,
        tolerance: float,
        cancel: threading.Event | None,
    ) -> None:
        """Remember the judge, limits and style; the folder is made on entering."""
        self.judge = judge
        self.limits = limits
        self.style = style
        self.oracle_name = oracle_label(oracle)
        self.names: dict[str, str] = {}
        self.tolerance = tolerance
        self.cancel = cancel
        self.roles: dict[str, dict] = {}
        self.runs = 0
        self.notes: list[str] = []
        self.entry_point: str | None = None
        self.calls: list[str] = []
        self.folder: tempfile.TemporaryDirectory | None = None
        self.job = Path()

    def __enter__(self) -> Session:
        """Make the job folder."""
        self.folder = tempfile.TemporaryDirectory(prefix="vibe-stress-")
        self.job = Path(self.folder.name)
        os.chmod(self.job, 0o755)
        return self

    def __exit__(self, *_: object) -> None:
        """Remove the job folder."""
        if self.folder is not None:
            self.folder.cleanup()

    # -- reports --

    def report(self, verdict: Verdict, **fields) -> StressReport:
        """A report with the runs and notes so far."""
        message = fields.pop("message", "")
        message = " ".join(part for part in (message, *self.notes) if part)
        return StressReport(verdict, self.runs, self.oracle_name, message=message, **fields)

    def broken(self, role: str, message: str) -> StressReport:
        """The oracle or the generator is broken: an IE that blames neither the solution nor the judge."""
        kind = "generator" if role == "gen" else "oracle"
        return self.report(Verdict.IE, message=message, broken=kind)

    # -- preparing programs --

    def prepare(self, programs: dict[str, Program | None]) -> StressReport | None:
        """Write or compile every program; a report when one cannot run."""
        if self.judge.python_as_root:  # the loop is a Python program that forks
            return self.report(
                Verdict.IE,
                message="Stress tests need to fork inside the sandbox, which this sandbox level "
                "refuses here (it runs Python as root without fork); use the strong (bubblewrap) level.",
            )
        for role, program in programs.items():
            if program is None:
                continue
            self.names[role] = program.name
            prepared = self.prepare_one(role, program)
            if isinstance(prepared, str):
                if role == "solution":
                    return self.report(Verdict.CE, message=f"{program.name} does not compile:\n{prepared}")
                what = "generator" if role == "gen" else "brute force"
                return self.broken(role, f"The {what} ({program.name}) does not compile:\n{prepared}")
            self.roles[role] = prepared
        return None

    def prepare_one(self, role: str, program: Program) -> dict | str:
        """The loop's description of one program, or the compiler's error."""
        if program.language == "python":
            write(self.job / f"{role}.py", program.code)
            return {"python": self.judge.inside(self.job, f"{role}.py"), "entry_point": self.entry_point}
        if program.language != "cpp":
            return f"the stress test runs Python and C++ only, not {program.language}"
        code = program.code
        if self.style == "function":
            tests = [TestCase(str(i), call, "None") for i, call in enumerate(self.calls)]
            harnessed = cpp.function_program(code, tests, self.entry_point)
            if isinstance(harnessed, str):
                return harnessed
            code = harnessed[0]
        binary = self.judge.compiler.compile(code)
        if binary.error is not None:
            return binary.error
        shutil.copy(binary.path, self.job / role)
        os.chmod(self.job / role, 0o755)
        return {"argv": [self.judge.inside(self.job, role)]}

    # -- samples --

    def check_samples(self, samples: Sequence[TestCase]) -> StressReport | None:
        """The oracle must pass every sample (else it is broken); the solution too (else a counterexample)."""
        if not samples:
            return None
        roles = [r for r in ("oracle", "solution") if r in self.roles]
        items = [self.item(t.input, i) for i, t in enumerate(samples)]
        records = self.run_all(items, record="all", roles=roles)
        if isinstance(records, StressReport):
            return records
        by_index = {r["i"]: r for r in records if "raws" in r}
        for role in roles:
            for index, sample in enumerate(samples):
                record = by_index.get(index)
                raw = (record or {}).get("raws", {}).get(role)
                if raw is None:
                    continue
                verdict, actual, message = self.verdict_on(raw, role, sample.output)
                if verdict is Verdict.AC:
                    continue
                if role == "oracle":
                    detail = f"expected {clip(sample.output)}, got {clip(actual) or message}"
                    return self.broken(
                        role,
                        f"{_capital(self.oracle_name)} fails sample {index + 1} ({verdict.value}: {detail}), "
                        "so it cannot judge the solution; fix it first.",
                    )
                counter = Counterexample(sample.input, sample.output, actual or message, verdict)
                return self.report(verdict, counterexample=counter, message=f"Fails sample {index + 1}.")
        return None

    # -- stdin: generated inputs --

    def random_inputs(self, runs: int, seconds: float, small_n: int) -> StressReport | None:
        """Generated inputs of growing size until `runs` or `seconds`; the smallest counterexample found."""
        deadline = time.monotonic() + seconds
        cap, done, seen = small_n, 0, []
        while done < runs and time.monotonic() < deadline:
            if self.cancelled():
                return self.report(Verdict.IE, message="Cancelled.")
            batch = [{"seed": k + 1, "n": min(size_at(k, small_n), cap)} for k in range(done, runs)]
            records = self.run_batch(batch, deadline)
            if isinstance(records, StressReport):
                return records
            for record in records:
                if record["status"] in ("deadline", "budget"):
                    break
                done += 1
                record["item"] = batch[record["i"]]
                if "digest" in record:
                    seen.append((record["item"]["n"], record["digest"]))
                if record["status"] == "same":
                    self.runs += 1
                    continue
                outcome = self.failure(record)
                if isinstance(outcome, StressReport):
                    return self.shrink(outcome, record, deadline)
                cap = outcome  # the brute force is too slow from this size on
                break
            if len(seen) >= 20 and self.same_input(seen):
                return self.same_input(seen)
        return self.same_input(seen)

    def run_batch(self, batch: list[dict], deadline: float) -> list[dict] | StressReport:
        """One sandbox start over as much of the batch as fits in BATCH_S (and the deadline)."""
        seconds = max(0.05, min(BATCH_S, deadline - time.monotonic()))
        return self.run_loop(batch, record="failures", seconds=seconds)

    def same_input(self, seen: list[tuple[int, int]]) -> StressReport | None:
        """A broken-generator report when five or more seeds over two or more sizes all gave one input."""
        sizes, digests = {n for n, _ in seen}, {digest for _, digest in seen}
        if len(seen) < 5 or len(sizes) < 2 or len(digests) != 1:
            return None
        name = self.names.get("gen", "generator")
        return self.broken(
            "gen",
            f"The generator ({name}) printed the same input for seeds 1 to {len(seen)}; it must read "
            "its seed and size from the command line (`gen SEED N`) and vary its output with the seed.",
        )

    def failure(self, record: dict) -> StressReport | int:
        """What a failing record means: a broken generator or oracle, a size cap for a slow brute force
        (an int), or a counterexample report for the solution."""
        status, raws = record["status"], record["raws"]
        item = record["item"]
        if status == "failed:gen":
            raw = raws["gen"]
            return self.broken(
                "gen",
                f"The generator ({self.names['gen']}) failed on `gen {item['seed']} {item['n']}` "
                f"({describe_failure(raw)}); a generator must print one input and exit 0.",
            )
        if status == "failed:oracle":
            raw = raws["oracle"]
            slow = raw["wall_exceeded"] or raw["cpu_exceeded"] or raw["cpu_s"] > self.limits.time_s
            if slow and item.get("n", 1) > 1:
                self.notes.append(
                    f"{_capital(self.oracle_name)} is too slow from n={item['n']} on, so inputs stayed smaller."
                )
                return item["n"] - 1
            return self.broken(
                "oracle",
                f"{_capital(self.oracle_name)} failed on a generated input ({describe_failure(raw)}); "
                f"either it or the generator is wrong. Input:\n{clip(record['input'])}",
            )
        self.runs += 1
        return self.counterexample_report(record)

    def counterexample_report(self, record: dict) -> StressReport:
        """The solution's verdict on a failing input, with the oracle's answer as the expected one."""
        raws = record["raws"]
        expected = self.answer(raws["oracle"], "oracle") if "oracle" in raws else ""
        verdict, actual, message = self.verdict_on(raws["solution"], "solution", expected, record["input"])
        if verdict is Verdict.AC:  # the loop's comparison and the judge's agree; kept for safety
            verdict, message = Verdict.WA, "wrong answer"
        counter = Counterexample(record["input"], expected, actual or message, verdict)
        item = record.get("item", {})
        where = f" (`gen {item['seed']} {item['n']}`)" if "seed" in item else ""
        return self.report(
            verdict, counterexample=counter, message=f"{verdict.value} on a generated input{where}."
        )

    def shrink(self, found: StressReport, record: dict, deadline: float) -> StressReport:
        """Look for a counterexample at smaller sizes than the one found (sizes ascending)."""
        if not isinstance(found, StressReport) or found.counterexample is None:
            return found
        n = record.get("item", {}).get("n", 1)
        if n <= 1 or time.monotonic() >= deadline or self.cancelled():
            return found
        first_seed = 1_000_000
        items = [
            {"seed": first_seed + size * SHRINK_PER_SIZE + j, "n": size}
            for size in range(1, n)
            for j in range(SHRINK_PER_SIZE)
        ]
        records = self.run_batch(items, deadline)
        if isinstance(records, StressReport):
            return found
        for smaller in records:
            if smaller["status"] in ("differ", "failed:solution"):
                smaller["item"] = items[smaller["i"]]
                runs = self.runs
                better = self.counterexample_report(smaller)
                self.runs = runs
                if len(better.counterexample.input) <= len(found.counterexample.input):
                    better.runs = found.runs
                    return better
        return found

    # -- function style: given calls --

    def given_calls(self, calls: list[str], offset: int, seconds: float) -> StressReport | None:
        """Run the calls (their harness indices start after the samples') until a difference or `seconds`."""
        deadline = time.monotonic() + seconds
        done = 0
        while done < len(calls) and time.monotonic() < deadline:
            if self.cancelled():
                return self.report(Verdict.IE, message="Cancelled.")
            batch = [self.item(call, offset + i) for i, call in enumerate(calls[done:], start=done)]
            records = self.run_batch(batch, deadline)
            if isinstance(records, StressReport):
                return records
            for record in records:
                if record["status"] in ("deadline", "budget"):
                    break
                done += 1
                record["item"] = batch[record["i"]]
                if record["status"] == "same":
                    self.runs += 1
                    continue
                outcome = self.failure(record)
                if isinstance(outcome, StressReport):
                    return outcome
        return None

    # -- the maximum size --

    def maximum_size(self, max_n: int) -> StressReport | None:
        """Generate one input at the maximum size and time the solution on it, started as the judge starts
        programs (a fresh process), against the time limit."""
        gen_limits = Limits(
            time_s=MAX_GEN_TIME_S,
            memory_mb=max(self.limits.memory_mb, 1024),
            output_mb=256,
            file_mb=max(self.limits.file_mb, 256),
        )
        records = self.run_loop(
            [{"seed": 1, "n": max_n}],
            record="all",
            seconds=MAX_GEN_TIME_S,
            roles=["gen"],
            gen_limits=gen_limits,
        )
        if isinstance(records, StressReport):
            return records
        record = records[0] if records else {"status": "deadline"}
        if record["status"] != "same":
            raw = (record.get("raws") or {}).get("gen")
            reason = describe_failure(raw) if raw else "it did not finish"
            return self.broken(
                "gen", f"The generator ({self.names['gen']}) failed on `gen 1 {max_n}` ({reason})."
            )
        text = record["input"]
        raw = self.timed_run(text)
        result = base_result(raw, TestCase("max", text, ""))
        size = MaxSize(max_n, result.time_ms / 1000)
        if result.verdict is Verdict.AC and raw["exit"] != 0:
            result.verdict, result.message = Verdict.RE, exit_message(raw)
        if result.verdict is Verdict.AC:
            return self.report(Verdict.AC, max_size=size)
        if result.verdict is Verdict.TLE:
            size.seconds = max(size.seconds, self.limits.time_s)
            return self.report(
                Verdict.TLE,
                max_size=size,
                message=f"Too slow at n={short_number(max_n)}: over the {self.limits.time_s:g} s time limit.",
            )
        shown = text if len(text) <= SHOWN_INPUT else f"(the output of `gen 1 {max_n}`, {len(text)} bytes)"
        counter = Counterexample(
            shown, "", raw.get("stdout", "")[:SHOWN_INPUT] or result.message, result.verdict
        )
        return self.report(
            result.verdict,
            counterexample=counter,
            max_size=size,
            message=f"{result.verdict.value} at n={short_number(max_n)}: {result.message}.",
        )

    def timed_run(self, text: str) -> dict:
        """Run the solution once on an input through the judge's ordinary path (one fresh process)."""
        write(self.job / "max.in", text)
        program = self.roles["solution"]
        if "argv" in program:
            argv = list(program["argv"])
        else:
            argv = [self.judge.python, "-E", "-s", "-B", program["python"]]
        run = Run(argv, self.judge.inside(self.job, "max.in"))
        raw = self.judge.execute(self.job, [run], self.limits)[0]
        return raw

    # -- running the loop --

    def item(self, text: str, index: int) -> dict:
        """A loop item for a given input (function style: a call, with its C++ harness index)."""
        return {"input": text, "stdin": str(index)} if self.style == "function" else {"input": text}

    def run_all(
        self, items: list[dict], *, record: str, roles: list[str] | None = None
    ) -> list[dict] | StressReport:
        """Run every item, over as many sandbox starts as the result budget needs; an IE report only when
        nothing ran."""
        records: list[dict] = []
        position = 0
        while position < len(items):
            got = self.run_loop(items[position:], record=record, seconds=3600.0, roles=roles)
            if isinstance(got, StressReport):
                return records or got  # what ran before the loop failed (a program may have killed it)
            done = [r for r in got if r["status"] not in ("deadline", "budget")]
            for r in done:
                r["i"] += position
            records += done
            if not done:
                break
            position += len(done)
        return records

    def run_loop(
        self,
        items: list[dict],
        *,
        record: str,
        seconds: float,
        roles: list[str] | None = None,
        gen_limits: Limits | None = None,
    ) -> list[dict] | StressReport:
        """Start the stress loop in the sandbox once; its records (outputs decoded), or an IE report."""
        from sandbox.judge import shim_limits

        chosen = {role: self.roles[role] for role in (roles or self.roles) if role in self.roles}
        strong = self.judge.level.name == "strong"
        gen_limits = gen_limits or Limits(
            time_s=max(self.limits.time_s, GEN_TIME_S),
            memory_mb=self.limits.memory_mb,
            output_mb=self.limits.output_mb,
            file_mb=self.limits.file_mb,
        )
        spec = {
            "roles": chosen,
            "items": items,
            "style": self.style,
            "limits": shim_limits(self.limits),
            "gen_limits": shim_limits(gen_limits),
            "deadline_s": seconds,
            "record": record,
            "tolerance": self.tolerance,
            "sweep": "namespace" if strong else "descendants",
            "clean": [WORK, "/tmp"] if strong else [str(self.job / "work")],
            "result_budget": RESULT_MB * MIB // 2,
            "mark": cpp.RESULT_MARK if self.style == "function" else "",
        }
        write_bytes(self.job / "loop.marshal", marshal.dumps(spec))
        argv = [self.judge.python, "-E", "-s", "-B", self.judge.script("stress_loop.py")]
        run = Run([*argv, self.judge.inside(self.job, "loop.marshal")], None)
        slowest = max(self.limits.wall_s, gen_limits.wall_s if "gen" in chosen else 0.0)
        own = seconds + 3 * slowest + LOOP_SLACK_S
        loop_limits = Limits(
            time_s=own,
            wall_factor=1.0,
            memory_mb=max(self.limits.memory_mb, gen_limits.memory_mb),
            output_mb=RESULT_MB,
            processes=self.limits.processes,
            file_mb=max(self.limits.file_mb, gen_limits.file_mb),
            open_files=max(self.limits.open_files, 32),
        )
        raw = self.judge.execute(self.job, [run], loop_limits)[0]
        records = decode_records(raw.get("stdout", ""))
        if not records:
            reason = raw.get("internal") or (exit_message(raw) if "exit" in raw else "no result")
            return self.report(Verdict.IE, message=f"The stress loop failed in the sandbox: {reason}")
        for rec in records:
            for raw_run in (rec.get("raws") or {}).values():
                raw_run["cpu_limit_s"], raw_run["memory_limit_mb"] = self.limits.time_s, self.limits.memory_mb
        if record == "failures" and ended_early(records, len(items)):
            where = items[len(records)] if len(records) < len(items) else {}
            given = f" (`gen {where['seed']} {where['n']}`)" if "seed" in where else ""
            return self.report(
                Verdict.IE,
                message=f"The stress loop ended early, during input {len(records) + 1}{given}: a program killed "
                "it, or the sandbox's time ran out; nothing is concluded from it.",
            )
        return records

    # -- reading results --

    def answer(self, raw: dict, role: str) -> str:
        """What a run answered: stdout, or for a function the value's text."""
        text = raw["stdout"]
        if self.style == "function":
            if "argv" in self.roles.get(role, {}):
                lines = [line for line in text.split("\n") if line.startswith(cpp.RESULT_MARK)]
                return lines[-1][len(cpp.RESULT_MARK) :].strip() if lines else ""
            return text.strip()
        return text

    def verdict_on(self, raw: dict, role: str, expected: str, given: str = "") -> tuple[Verdict, str, str]:
        """(verdict, answer, message) of one run against the expected answer."""
        test = TestCase("stress", given, expected)
        if self.style == "stdin":
            result = classify(raw, test, "stdin", self.limits, self.tolerance)
            return result.verdict, result.actual, result.message
        result = base_result(raw, test)
        if result.verdict is not Verdict.AC:
            return result.verdict, "", result.message
        if raw["exit"] != 0:
            return Verdict.RE, "", exit_message(raw)
        actual = self.answer(raw, role)
        same = same_value(actual, expected, self.tolerance)
        return (Verdict.AC if same else Verdict.WA), actual, "" if same else "wrong answer"

    def cancelled(self) -> bool:
        """Whether the caller asked to stop."""
        return self.cancel is not None and self.cancel.is_set()


def ended_early(records: list[dict], items: int) -> bool:
    """Whether the loop stopped without saying why: every item done, or a last record that ends the batch
    (a failure, the deadline, the result budget), is a proper end."""
    return len(records) < items and records[-1]["status"] == "same"


def size_at(k: int, small_n: int) -> int:
    """The size bound of the k-th (0-based) stress input: PER_SIZE inputs at each size 1, 2, ..., then
    small_n."""
    return min(small_n, 1 + k // PER_SIZE)


def decode_records(text: str) -> list[dict]:
    """The loop's record lines, with every run's output decoded to text."""
    records = []
    for line in text.splitlines():
        try:
            record = marshal.loads(base64.b64decode(line))
        except (ValueError, EOFError, TypeError):
            continue
        for raw in (record.get("raws") or {}).values():
            for name in ("stdout", "stderr"):
                raw[name] = raw[name].decode("utf-8", "replace")
        records.append(record)
    return records


def same_value(actual: str, expected: str, tolerance: float) -> bool:
    """Two printed function values are equal as Python literals (or else as text)."""
    import ast

    try:
        return values_match(ast.literal_eval(actual.strip()), ast.literal_eval(expected.strip()), tolerance)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return actual.strip() == expected.strip()


def describe_failure(raw: dict) -> str:
    """How a run failed, in a few words."""
    if raw.get("wall_exceeded") or raw.get("cpu_exceeded"):
        return "time limit exceeded"
    if raw.get("ole"):
        return "output limit exceeded"
    return exit_message(raw)


def clip(text: str, limit: int = 300) -> str:
    """Text cut to a readable length."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = [
    "Counterexample",
    "MaxSize",
    "Program",
    "StressReport",
    "generated_inputs",
    "outputs_on",
    "stress_function",
    "stress_stdin",
]


def _capital(name: str) -> str:
    """An oracle's name at the start of a sentence: "the model's brute force" -> "The model's brute force",
    "brute force (brute.py)" -> "The brute force (brute.py)"."""
    return name[:1].upper() + name[1:] if name.lower().startswith("the ") else f"The {name}"

