"""The judge: runs a program on tests inside the sandbox and turns what the shim saw into verdicts."""

from __future__ import annotations

import ast
import marshal
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sandbox import cpp
from sandbox.compare import tokens_match
from sandbox.isolation import (
    NOBODY,
    WORK,
    Level,
    Mount,
    choose,
    interpreter_prefixes,
    nobody_can_run,
    strong_command,
)
from sandbox.verdicts import Limits, Report, TestCase, TestResult, Verdict, overall

HERE = Path(__file__).resolve().parent
SCRIPTS = ("shim.py", "harness.py", "compare.py", "complexity_probe.py", "stress_loop.py")
LANGUAGES = ("python", "cpp")
STYLES = ("function", "stdin")
MEMORY_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory")
FILE_MARKERS = ("File too large", "No space left on device", "Disk quota exceeded")
SHIM_SLACK_S = 10.0
RSS_AT_LIMIT = 0.95  # a peak resident size this close to the memory limit counts as MLE
STACK_CAP = 64 * 1024 * 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class Run:
    """One program run the shim performs: its command line and the file fed to its stdin."""

    argv: list[str]
    stdin: str | None


class Judge:
    """Runs code on tests and gives verdicts; safe to call from several threads at once."""

    def __init__(
        self,
        limits: Limits | None = None,
        python: str | None = None,
        isolation: str = "auto",
        cache_dir: str | Path | None = None,
    ) -> None:
        """Choose the isolation level now (raising IsolationUnavailable rather than going weaker)."""
        self.limits = limits or Limits()
        self.python = python or sys.executable
        self.level: Level = choose(isolation)
        self.isolation = self.level.label
        self.python_as_root = False
        if os.geteuid() == 0 and self.level.name == "fallback" and not nobody_can_run(self.python):
            # uid 65534 cannot reach this interpreter: Python programs stay root, so forking is refused.
            self.python_as_root = True
            self.isolation += ", Python as root without fork: uid 65534 cannot run the interpreter"
        self.compiler = cpp.Compiler(self, Path(cache_dir) if cache_dir else cpp.default_cache_dir())

    def run(
        self,
        code: str,
        tests: Sequence[TestCase],
        *,
        language: str = "python",
        style: str = "function",
        limits: Limits | None = None,
        entry_point: str | None = None,
        float_tolerance: float = 1e-6,
    ) -> Report:
        """Run the code on every test; the first non-AC test decides the overall verdict."""
        limits = limits or self.limits
        if language not in LANGUAGES or style not in STYLES:
            return self._internal(f"the judge runs {'/'.join(LANGUAGES)} in {'/'.join(STYLES)} style only")
        if not tests:
            return self._internal("there are no tests to run")
        with tempfile.TemporaryDirectory(prefix="vibe-judge-") as folder:
            job = Path(folder)
            os.chmod(job, 0o755)
            if language == "cpp":
                return self._run_cpp(job, code, tests, style, limits, entry_point, float_tolerance)
            write(job / "solution.py", code)
            runs = [
                self._python_run(job, i, test, style, entry_point, float_tolerance)
                for i, test in enumerate(tests)
            ]
            raws = self.execute(job, runs, limits)
        results = [
            classify(raw, test, style, limits, float_tolerance) for raw, test in zip(raws, tests, strict=True)
        ]
        return Report(overall(results), results, isolation=self.isolation)

    def _run_cpp(
        self,
        job: Path,
        code: str,
        tests: Sequence[TestCase],
        style: str,
        limits: Limits,
        entry_point: str | None,
        tolerance: float,
    ) -> Report:
        """Compile (or reuse the cached binary), then run it on every test."""
        if style == "function":
            harnessed = cpp.function_program(code, tests, entry_point)
            if isinstance(harnessed, str):
                return self._internal(harnessed)
            code, requests = harnessed
        else:
            requests = [test.input for test in tests]
        binary = self.compiler.compile(code)
        if binary.error is not None:
            return Report(
                Verdict.CE, isolation=self.isolation, compile_output=binary.error, message="compile error"
            )
        shutil.copy(binary.path, job / "prog")
        os.chmod(job / "prog", 0o755)
        runs = []
        for index, request in enumerate(requests):
            write(job / f"{index}.in", request)
            runs.append(Run([self.inside(job, "prog")], self.inside(job, f"{index}.in")))
        raws = self.execute(job, runs, limits)
        if style == "function":
            results = [
                cpp.classify_function(raw, test, limits, tolerance)
                for raw, test in zip(raws, tests, strict=True)
            ]
        else:
            results = [
                classify(raw, test, style, limits, tolerance) for raw, test in zip(raws, tests, strict=True)
            ]
        return Report(overall(results), results, isolation=self.isolation, compile_output=binary.warnings)

    def _python_run(
        self, job: Path, index: int, test: TestCase, style: str, entry_point: str | None, tolerance: float
    ) -> Run:
        """The command line and stdin file for one Python test."""
        flags = ["-E", "-s", "-B"]
        if style == "stdin":
            write(job / f"{index}.in", test.input)
            argv = [self.python, *flags, self.inside(job, "solution.py")]
        else:
            request = {
                "call": test.input,
                "expected": test.output,
                "entry_point": entry_point,
                "tolerance": tolerance,
            }
            write_bytes(job / f"{index}.in", marshal.dumps(request))
            argv = [self.python, *flags, self.script("harness.py"), self.inside(job, "solution.py")]
        return Run(argv, self.inside(job, f"{index}.in"))

    def _internal(self, message: str) -> Report:
        """A report for a failure of the judge (or of the request) itself."""
        return Report(Verdict.IE, isolation=self.isolation, message=message)

    def inside(self, job: Path, name: str) -> str:
        """The path of a job file as the sandboxed program sees it."""
        return f"/job/{name}" if self.level.name == "strong" else str(job / name)

    def script(self, name: str) -> str:
        """The path of one of the judge's own scripts as the sandbox sees it."""
        return f"/judge/{name}" if self.level.name == "strong" else str(HERE / name)

    def execute(
        self,
        job: Path,
        runs: list[Run],
        limits: Limits,
        *,
        writable: Path | None = None,
        python: str | None = None,
    ) -> list[dict]:
        """Run every program in the sandbox through the shim; one raw result per run, in order.

        A program that kills the shim loses its own test (RE); the remaining runs start a fresh sandbox.
        """
        raws: list[dict] = []
        while len(raws) < len(runs):
            batch = runs[len(raws) :]
            got, failure = self._execute_batch(job, batch, limits, writable, python or self.python)
            raws.extend(got)
            for raw in got:
                raw["cpu_limit_s"], raw["memory_limit_mb"] = limits.time_s, limits.memory_mb
            if len(raws) < len(runs):
                if failure is None or not failure.get("killed_monitor"):
                    reason = failure["internal"] if failure else "the sandbox stopped without a result"
                    raws.extend(internal_raw(reason) for _ in range(len(runs) - len(raws)))
                else:
                    raws.append(failure)
        return raws

    def _execute_batch(
        self, job: Path, runs: list[Run], limits: Limits, writable: Path | None, python: str
    ) -> tuple[list[dict], dict | None]:
        """Start one shim for the runs; return its results and, where it ended early, what ended it."""
        spec_path = job / "spec.marshal"
        work = self._work_folder(job)
        as_root = self.python_as_root and runs[0].argv[0] == python
        spec = self._spec(runs, limits, work, writable, as_root)
        write_bytes(spec_path, marshal.dumps(spec))
        argv = self._shim_command(job, spec_path, limits, writable, python)
        budget = sum(limits.wall_s for _ in runs) + SHIM_SLACK_S
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out, err = proc.communicate()
        raws = read_frames(out)
        if len(raws) >= len(runs):
            return raws[: len(runs)], None
        return raws, self._early_end(proc.returncode, err.decode("utf-8", "replace"))

    def _early_end(self, returncode: int, stderr: str) -> dict:
        """What to record for the run during which the shim ended without writing its result."""
        killed = returncode < 0 or (self.level.name == "strong" and returncode > 128)
        if killed:
            raw = internal_raw("the program killed the judge's monitor process")
            raw["killed_monitor"] = True
            return raw
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {returncode}"
        return internal_raw(f"the sandbox failed: {last}")

    def _work_folder(self, job: Path) -> str:
        """The program's writable working folder: a private tmpfs in strong mode, a job subfolder else."""
        if self.level.name == "strong":
            return WORK
        work = job / "work"
        work.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(work, NOBODY, NOBODY)
        return str(work)

    def _spec(self, runs: list[Run], limits: Limits, work: str, writable: Path | None, as_root: bool) -> dict:
        """The shim's instructions."""
        strong = self.level.name == "strong"
        root = os.geteuid() == 0 and not as_root
        output_dir = "/out" if strong else str(writable) if writable else None
        return {
            "tests": [{"argv": run.argv, "stdin": run.stdin} for run in runs],
            "env": {
                "PATH": "/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "HOME": work,
                "TMPDIR": "/tmp" if strong else work,
            },
            "cwd": output_dir if writable else work,
            "clean": [work, "/tmp"] if strong else [work],
            "limits": shim_limits(limits),
            "uid": NOBODY if root else None,
            "gid": NOBODY if root else None,
            "sweep": "namespace" if strong else "descendants",
            "seccomp": self._seccomp_config(as_root),
        }

    def _seccomp_config(self, as_root: bool) -> dict | None:
        """What the fallback's seccomp filter needs: the judge's pid and where pyseccomp lives."""
        if not self.level.seccomp:
            return None
        import pyseccomp

        return {
            "judge_pid": os.getpid(),
            "libraries": {"c": pyseccomp._libc._name, "seccomp": pyseccomp._libseccomp._name},
            "no_fork": as_root,
            "module_dir": str(Path(pyseccomp.__file__).parent),
        }

    def _shim_command(
        self, job: Path, spec: Path, limits: Limits, writable: Path | None, python: str
    ) -> list[str]:
        """The command line that starts the shim at the chosen isolation level."""
        shim_python = shim_interpreter()
        if self.level.name != "strong":
            return [shim_python, "-E", "-s", "-S", "-B", str(HERE / "shim.py"), str(spec)]
        mounts = [Mount(str(job), "/job")]
        mounts += [Mount(str(HERE / name), f"/judge/{name}") for name in SCRIPTS]
        prefixes = set(interpreter_prefixes(python)) | set(interpreter_prefixes(shim_python))
        mounts += [Mount(prefix, prefix) for prefix in sorted(prefixes)]
        if writable is not None:
            mounts.append(Mount(str(writable), "/out", writable=True))
        size = max(limits.file_mb, 1) * MIB
        argv = [shim_python, "-E", "-s", "-S", "-B", "/judge/shim.py", "/job/spec.marshal"]
        return strong_command(self.level, mounts, size, size, argv)


def shim_interpreter() -> str:
    """The interpreter that runs the shim: the judge's own base interpreter (standard library only)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return base if os.path.exists(base) else sys.executable


def shim_limits(limits: Limits) -> dict:
    """The limits in the units the shim applies them."""
    memory = limits.memory_mb * MIB
    return {
        "cpu_s": limits.time_s,
        "wall_s": limits.wall_s,
        "memory_bytes": memory,
        "output_bytes": limits.output_mb * MIB,
        "nproc": limits.processes,
        "fsize_bytes": limits.file_mb * MIB,
        "nofile": limits.open_files,
        "stack_bytes": min(memory, STACK_CAP),
    }


def read_frames(data: bytes) -> list[dict]:
    """The shim's results: length-prefixed marshal frames, with output bytes decoded to text."""
    raws, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 8], "little")
        frame = data[offset + 8 : offset + 8 + size]
        if len(frame) < size:
            break
        raw = marshal.loads(frame)
        for name in ("stdout", "stderr"):
            raw[name] = raw[name].decode("utf-8", "replace")
        raws.append(raw)
        offset += 8 + size
    return raws


def internal_raw(message: str) -> dict:
    """A raw result standing for a run the shim could not report on."""
    return {"internal": message}


def classify(raw: dict, test: TestCase, style: str, limits: Limits, tolerance: float) -> TestResult:
    """Turn one raw shim result into a verdict for a Python or stdin-style test."""
    result = base_result(raw, test)
    if result.verdict is not Verdict.AC:
        return result
    if style == "function":
        return classify_function_result(raw, result)
    result.actual = raw["stdout"]
    if raw["exit"] != 0:
        result.verdict = Verdict.RE
        result.message = exit_message(raw)
    elif not tokens_match(raw["stdout"], test.output, tolerance):
        result.verdict = Verdict.WA
        result.message = "wrong answer"
    return result


def base_result(raw: dict, test: TestCase) -> TestResult:
    """Verdicts every program shares (IE, OLE, TLE, MLE, a signal), or AC as a placeholder to refine."""
    result = TestResult(test.name, Verdict.AC, input=test.input, expected=test.output)
    if "internal" in raw:
        killed = raw.get("killed_monitor", False)
        result.verdict, result.message = (Verdict.RE if killed else Verdict.IE), raw["internal"]
        return result
    result.time_ms, result.wall_ms = raw["cpu_s"] * 1000, raw["wall_s"] * 1000
    result.memory_mb = raw["maxrss_kb"] / 1024
    limits_hit = resource_verdict(raw)
    if limits_hit is not None:
        result.verdict, result.message = limits_hit
    elif raw.get("exec_error"):
        result.verdict, result.message = Verdict.IE, f"could not start the program: {raw['exec_error']}"
    elif raw["signal"] is not None:
        result.verdict, result.message = Verdict.RE, exit_message(raw)
    return result


def resource_verdict(raw: dict) -> tuple[Verdict, str] | None:
    """OLE, TLE or MLE where the run hit one of those limits, else None."""
    stderr, failed = raw["stderr"], raw["exit"] != 0
    cpu_limit = raw.get("cpu_limit_s")
    if raw["ole"] or (failed and any(m in stderr for m in FILE_MARKERS)) or raw["signal"] == signal.SIGXFSZ:
        return Verdict.OLE, "output limit exceeded"
    if raw["wall_exceeded"]:
        return Verdict.TLE, "wall-clock time limit exceeded"
    over = cpu_limit is not None and raw["cpu_s"] > cpu_limit
    if raw.get("cpu_exceeded") or raw["signal"] == signal.SIGXCPU or over:
        return Verdict.TLE, "CPU time limit exceeded"
    peak_mb, memory_limit = raw["maxrss_kb"] / 1024, raw.get("memory_limit_mb")
    at_limit = memory_limit is not None and peak_mb >= memory_limit * RSS_AT_LIMIT
    if at_limit or (failed and (any(m in stderr for m in MEMORY_MARKERS) or raw["signal"] == signal.SIGKILL)):
        return Verdict.MLE, "memory limit exceeded"
    return None


def classify_function_result(raw: dict, result: TestResult) -> TestResult:
    """Read the harness's result line and turn it into a verdict."""
    line = raw["stdout"].strip().split("\n")[-1] if raw["stdout"].strip() else ""
    try:
        data = ast.literal_eval(line)
        if not isinstance(data, dict):
            raise ValueError(line)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        result.verdict = Verdict.RE
        result.message = exit_message(raw)
        return result
    if "error" in data:
        result.verdict = Verdict.MLE if data["error"] == "MemoryError" else Verdict.RE
        result.message = data["message"]
        return result
    result.actual = data["actual"]
    if not data["ok"]:
        result.verdict, result.message = Verdict.WA, "wrong answer"
    return result


def exit_message(raw: dict) -> str:
    """The last line of stderr, else the signal or exit status."""
    if raw["signal"] is not None:
        try:
            name = signal.Signals(raw["signal"]).name
        except ValueError:
            name = f"signal {raw['signal']}"
        return f"killed by {name}" + (f": {last_line(raw['stderr'])}" if raw["stderr"].strip() else "")
    return last_line(raw["stderr"]) or f"exit status {raw['exit']}"


def last_line(text: str) -> str:
    """The last non-empty line of a text."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a started sandbox with everything in its session."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()


def write_bytes(path: Path, data: bytes) -> None:
    """Write a binary job file readable by the sandboxed program."""
    path.write_bytes(data)
    os.chmod(path, 0o644)


def write(path: Path, text: str) -> None:
    """Write a job file readable by the sandboxed program."""
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o644)
