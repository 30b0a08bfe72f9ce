"""Hostile and broken programs (tests/hostile/) on every isolation level this machine offers.

Each program has its expected verdict; after each run nothing may have escaped: no process left (by
ancestry and by command line), no file created outside the work folder, no connection to the host's
loopback, no secret read, and the judge still answers.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest

from sandbox import Judge, Limits, TestCase, Verdict
from sandbox.isolation import IsolationUnavailable

HOSTILE = Path(__file__).parent / "hostile"
# A short CPU limit keeps the suite quick; the wall limit is generous so that a busy CI machine does not
# turn quick programs into TLE. Only sleep.py, which tests the wall limit itself, and the fork bombs, whose
# main process gets little CPU among its copies, get a tight one.
LIMITS = Limits(
    time_s=0.5, wall_factor=8.0, memory_mb=128, output_mb=1, processes=16, file_mb=1, open_files=32
)
WALL_LIMITS = Limits(time_s=0.5, wall_factor=2.0, memory_mb=128, output_mb=1, processes=16, file_mb=1)
WALL_LIMITED = {"sleep.py", "fork_bomb.py", "fork_bomb.cpp"}
ESCAPE_MARK = "vibe-pwned"

# program file -> (accepted verdicts, stdin ("{port}", "{secret}", "{targets}" are filled in), expected output)
CASES: dict[str, tuple[set[Verdict], str, str]] = {
    "fork_bomb.py": ({Verdict.TLE}, "", ""),
    "fork_bomb.cpp": ({Verdict.TLE}, "", ""),
    "daemon.py": ({Verdict.AC}, "{targets}", "42"),
    "memory_bomb.py": ({Verdict.MLE}, "", ""),
    "memory_bomb.cpp": ({Verdict.MLE}, "", ""),
    "busy_loop.py": ({Verdict.TLE}, "", ""),
    "busy_loop.cpp": ({Verdict.TLE}, "", ""),
    "sleep.py": ({Verdict.TLE}, "", ""),
    "stdout_flood.py": ({Verdict.OLE}, "", ""),
    "stdout_flood.cpp": ({Verdict.OLE}, "", ""),
    "huge_file.py": ({Verdict.OLE}, "", "done"),
    "many_files.py": ({Verdict.OLE}, "", "done"),
    "fd_exhaustion.py": ({Verdict.RE}, "", ""),
    "connect_loopback.py": ({Verdict.AC}, "{port}", "blocked"),
    "connect_loopback.cpp": ({Verdict.AC}, "{port}", "blocked"),
    "read_secret.py": ({Verdict.AC}, "{secret}", "blocked"),
    "read_secret.cpp": ({Verdict.AC}, "{secret}", "blocked"),
    "write_outside.py": ({Verdict.AC}, "{targets}", "done"),
    "write_outside.cpp": ({Verdict.AC}, "{targets}", "done"),
    "kill_parent.py": ({Verdict.AC}, "", "42"),
    "kill_parent.cpp": ({Verdict.AC}, "", "42"),
    "null_deref.cpp": ({Verdict.RE}, "", ""),
    "deep_recursion.py": ({Verdict.RE}, "", ""),
    "deep_recursion.cpp": ({Verdict.RE}, "", ""),
    "division_by_zero.py": ({Verdict.RE}, "0", ""),
    "division_by_zero.cpp": ({Verdict.RE}, "0", ""),
    "abort.cpp": ({Verdict.RE}, "", ""),
    "exit_code.py": ({Verdict.RE}, "", "partial"),
    "exit_code.cpp": ({Verdict.RE}, "", ""),
    "thread_bomb.py": ({Verdict.RE, Verdict.MLE}, "", ""),
    "ignore_signals.py": ({Verdict.TLE}, "", ""),
    "ignore_signals.cpp": ({Verdict.TLE}, "", ""),
    "compile_error.cpp": ({Verdict.CE}, "", ""),
    "compile_bomb.cpp": ({Verdict.CE}, "", ""),
    "compile_template_bomb.cpp": ({Verdict.CE}, "", ""),
}

# Without a mount namespace the fallback cannot stop a file count or hide what uid 65534 may touch.
FALLBACK_CASES = {"many_files.py": ({Verdict.OLE, Verdict.TLE}, "", "done")}
# Programs whose escape the fallback stops only by running them as uid 65534.
NEEDS_UID_DROP = {"read_secret.py", "write_outside.py", "daemon.py"}


@pytest.fixture(scope="module", params=["strong", "fallback"])
def judge(request, tmp_path_factory) -> Judge:
    """A judge per isolation level; a level this machine lacks is skipped with its reason."""
    try:
        return Judge(LIMITS, isolation=request.param, cache_dir=tmp_path_factory.mktemp("cpp-cache"))
    except IsolationUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def escape_targets(tmp_path_factory):
    """Places a hostile program tries to write to: a world-writable folder, /tmp, $HOME, a root-only one."""
    world = Path(f"/tmp/{ESCAPE_MARK}-world-{uuid.uuid4().hex[:8]}")
    world.mkdir(mode=0o777)
    os.chmod(world, 0o777)
    private = tmp_path_factory.mktemp("private")
    os.chmod(private, 0o755)
    paths = {
        "world": world / f"{ESCAPE_MARK}.txt",
        "tmp": Path(f"/tmp/{ESCAPE_MARK}-{uuid.uuid4().hex[:8]}.txt"),
        "home": Path.home() / f".{ESCAPE_MARK}-{uuid.uuid4().hex[:8]}",
        "private": private / f"{ESCAPE_MARK}.txt",
    }
    yield paths
    for path in paths.values():
        path.unlink(missing_ok=True)
    world.rmdir() if world.exists() and not any(world.iterdir()) else None
    Path("/tmp/vibe-pwned-daemon").unlink(missing_ok=True)


@pytest.fixture
def secret():
    """A secret file in $HOME readable only by its owner."""
    path = Path.home() / f".vibe-judge-secret-{uuid.uuid4().hex[:8]}"
    path.write_text("TOPSECRET\n")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture
def listener():
    """A TCP listener on the host's loopback that must never see a connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture
def job_root(monkeypatch):
    """A temp folder of this test's own, so that every job path (and any process that runs from one)
    carries a mark no other process on the machine has."""
    root = Path(f"/tmp/vibe-hostile-{uuid.uuid4().hex[:12]}")
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def leftover_processes(mark: str) -> list[str]:
    """Processes that descend from this test process or run from this test's job folders."""
    found = [f"{p.pid} (descendant: {_cmdline(p)[:80]})" for p in psutil.Process().children(recursive=True)]
    for proc in psutil.process_iter(["pid", "cmdline"]):
        text = " ".join(proc.info["cmdline"] or [])
        if mark in text:
            found.append(f"{proc.info['pid']} {text[:80]}")
    return found


def _cmdline(proc: psutil.Process) -> str:
    """A process's command line, or why it cannot be read."""
    try:
        return " ".join(proc.cmdline())
    except psutil.Error as exc:
        return type(exc).__name__


def judge_answers(judge: Judge) -> bool:
    """Whether the judge still gives a plain AC."""
    report = judge.run("print(int(input()) + 1)", [TestCase("t", "41", "42")], style="stdin")
    return report.verdict is Verdict.AC


@pytest.mark.parametrize("program", sorted(CASES))
def test_hostile_program(judge, program, escape_targets, secret, listener, job_root):
    """The program gets its verdict and nothing escapes the sandbox."""
    strong = judge.level.name == "strong"
    if not strong and program in NEEDS_UID_DROP and judge.python_as_root:
        pytest.skip("fallback runs Python as root here (uid 65534 cannot reach the interpreter)")
    verdicts, stdin, output = (CASES if strong else {**CASES, **FALLBACK_CASES})[program]
    # The fallback has no private /tmp: a world-writable folder is writable there by design.
    blocked = (
        dict(escape_targets)
        if strong
        else {k: v for k, v in escape_targets.items() if k in ("home", "private")}
    )
    port = listener.getsockname()[1]
    stdin = stdin.format(port=port, secret=secret, targets="\n".join(str(p) for p in blocked.values()))
    language = "cpp" if program.endswith(".cpp") else "python"
    code = (HOSTILE / program).read_text()

    limits = WALL_LIMITS if program in WALL_LIMITED else None
    report = judge.run(
        code, [TestCase(program, stdin, output)], language=language, style="stdin", limits=limits
    )

    detail = report.first_failure.describe() if report.first_failure else ""
    assert report.verdict in verdicts, (
        f"{program}: {report.verdict} {report.message} {detail} {report.compile_output[:300]}"
    )
    assert leftover_processes(job_root.name) == []
    assert list(job_root.iterdir()) == []  # every job folder was removed
    assert [str(p) for p in blocked.values() if p.exists()] == []
    assert not Path("/tmp/vibe-pwned-daemon").exists()
    with pytest.raises(BlockingIOError):
        listener.accept()
    if program.startswith("read_secret"):
        assert "TOPSECRET" not in report.tests[0].actual
    if program == "compile_error.cpp":
        assert "undeclared_name" in report.compile_output
    assert judge_answers(judge)


def test_killed_judge_leaves_no_process(judge, tmp_path):
    """When the judge's own process is killed mid-run, the program and its children die with it."""
    token = f"0.{uuid.uuid4().int % 10**12:012d}"
    # C++, so that the fallback runs it as uid 65534 even where Python must stay root (and cannot fork).
    program = (
        "#include <unistd.h>\nint main() {\n"
        f'  if (fork() == 0) execl("/bin/sleep", "sleep", "1000", "{token}", (char*)0);\n'
        "  volatile unsigned long x = 0;\n  while (true) x++;\n}\n"
    )
    script = (
        "import sys\nsys.path.insert(0, sys.argv[1])\n"
        "from sandbox import Judge, Limits, TestCase\n"
        "judge = Judge(Limits(time_s=30), isolation=sys.argv[2], cache_dir=sys.argv[3])\n"
        "print('started', flush=True)\n"
        "judge.run(sys.stdin.read(), [TestCase('t', '', '')], language='cpp', style='stdin')\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    runner = subprocess.Popen(
        [sys.executable, "-c", script, root, judge.level.name, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    runner.stdin.write(program)
    runner.stdin.close()
    assert runner.stdout.readline().strip() == "started"
    assert wait_for(lambda: sleepers(token)), "the program never started"
    runner.kill()
    runner.wait()
    assert wait_for(lambda: not sleepers(token)), sleepers(token)


def sleepers(token: str) -> list[int]:
    """Processes running `sleep 1000 TOKEN`."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if token in (proc.info["cmdline"] or []):
            found.append(proc.info["pid"])
    return found


def wait_for(condition, timeout: float = 20.0) -> bool:
    """Poll a condition until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
