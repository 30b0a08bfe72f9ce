"""The stress loop: one program inside the sandbox that runs other programs on many inputs (standard library
only), so that a stress test pays for one sandbox start and one interpreter start, not one per input.

Usage: `python stress_loop.py SPEC` (a marshal file). The shim starts it like any program, so it runs under
the judge's isolation (namespaces or the fallback's seccomp filter, uid 65534) and rlimits. For every input
it starts a child in its own session with the per-input CPU limit, stdin from a memory file and pipes for
stdout/stderr: a Python program runs in a forked copy of this interpreter (its source compiled once; no
interpreter start per input), a binary (C++) is spawned. The loop watches the child as the shim does (wall,
CPU and output limits), sweeps what it left behind (the loop is a subreaper) and empties the writable
folders before the next input. The loop is not dumpable, so a program cannot reach its pipes or memory
through /proc; a program that kills it ends the batch early, which the judge reads as "nothing concluded".

Spec: {"roles": {"gen"|"oracle"|"solution": PROGRAM}, "items": [ITEM, ...], "style": "stdin"|"function",
       "limits": SHIM_LIMITS, "gen_limits": SHIM_LIMITS, "deadline_s": float, "record": "failures"|"all",
       "tolerance": float, "sweep": "namespace"|"descendants", "clean": [FOLDER, ...], "result_budget": int,
       "mark": str}
PROGRAM: {"python": PATH, "entry_point": NAME|None} or {"argv": [PATH, ...]}. ITEM: {"seed": int, "n": int}
(the input is what the generator prints for `gen SEED N`) or {"input": TEXT} (function style: TEXT is the
call a Python program answers, and "stdin" what a C++ harness reads to pick the same call). Roles run in
the order gen, oracle, solution. With "failures" the loop stops at the first input on which a role fails or
the solution differs from the oracle, and reports passing inputs in brief; with "all" every run's output
comes back.

Each record goes to stdout as one line of base64 over a marshal dump.
"""

import binascii
import gc
import marshal
import os
import sys
import time

import shim
from compare import tokens_match, values_match
from harness import bind_callee, safe_repr

PRELOAD = ("math", "collections", "heapq", "bisect", "itertools", "functools", "operator", "string", "random")
PRELOAD_MORE = ("array", "re", "typing", "io", "fractions", "decimal")
STDERR_SHOWN = 4000
PR_SET_DUMPABLE = 4
FORK_TRIES = 8  # a fork refused for the shared process limit (EAGAIN) is tried again, waiting a little longer each time


def main(argv):
    """Run every item of the spec and write one record line each."""
    with open(argv[1], "rb") as handle:
        spec = marshal.load(handle)
    shim.signal.signal(shim.signal.SIGPIPE, shim.signal.SIG_DFL)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    shim.signal.set_wakeup_fd(wake_w)
    shim.signal.signal(shim.signal.SIGCHLD, lambda *_: None)
    become_subreaper()
    programs = {role: load(program) for role, program in spec["roles"].items()}
    preload()
    gc.freeze()
    loop = Loop(spec, programs, wake_r)
    loop.run()
    return 0


def become_subreaper():
    """Make what a program leaves behind reparent to this loop, so that the loop can tell and sweep it; and
    make the loop not dumpable, so that a program (same uid) cannot open its /proc files (its result pipe,
    its memory). A program can still kill the loop; the judge then concludes nothing from the batch."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(shim.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def preload():
    """Import the modules contest programs use most, once, so that each forked child finds them loaded."""
    for name in PRELOAD + PRELOAD_MORE:
        try:
            __import__(name)
        except ImportError:
            pass


def load(program):
    """A program ready to run: a Python program's compiled code (or its compile error), or an argv."""
    if "argv" in program:
        return {"argv": list(program["argv"])}
    path = program["python"]
    with open(path, encoding="utf-8", errors="replace") as handle:
        source = handle.read()
    try:
        return {"python": path, "code": compile(source, path, "exec"), "entry": program.get("entry_point")}
    except (SyntaxError, ValueError) as exc:
        import traceback

        return {"python": path, "error": "".join(traceback.format_exception_only(type(exc), exc))}


class Loop:
    """Runs the items one after another and writes their records."""

    def __init__(self, spec, programs, wake_r):
        """Keep the spec, the prepared programs and the wake-up pipe the SIGCHLD handler writes to."""
        self.spec = spec
        self.programs = programs
        self.wake_r = wake_r
        self.written = 0
        self.start = time.monotonic()
        self.folders = safe_folders(spec["clean"])

    def run(self):
        """Every item in order, until the end, the deadline, the result budget or (with "failures") a
        failure or difference."""
        for index, item in enumerate(self.spec["items"]):
            if index and time.monotonic() - self.start > self.spec["deadline_s"]:
                self.emit({"i": index, "status": "deadline"})
                return
            if self.written > self.spec["result_budget"]:
                self.emit({"i": index, "status": "budget"})
                return
            record = self.run_item(index, item)
            self.emit(record)
            if self.spec["record"] == "failures" and record["status"] != "same":
                return

    def run_item(self, index, item):
        """Run the roles on one item and say how it went."""
        raws = {}
        if "seed" in item:
            argv_extra = [str(item["seed"]), str(item["n"])]
            raw = self.run_role("gen", b"", argv_extra, self.spec["gen_limits"])
            raws["gen"] = raw
            text = raw["stdout"]
            if not succeeded(raw, self.spec["gen_limits"]):
                return self.record(index, "failed:gen", None, raws)
        else:
            text = item["input"].encode("utf-8")
        function = self.spec["style"] == "function"
        for role in ("oracle", "solution"):
            program = self.programs.get(role)
            if program is None:
                continue
            if function and "argv" not in program:
                raw = self.run_role(role, b"", [], self.spec["limits"], item["input"])
            else:
                feed = item["stdin"].encode("utf-8") if function else text
                raw = self.run_role(role, feed, [], self.spec["limits"])
            raws[role] = raw
            if not succeeded(raw, self.spec["limits"]):
                return self.record(index, f"failed:{role}", text, raws)
        if "oracle" in raws and "solution" in raws and not self.same(raws["oracle"], raws["solution"]):
            return self.record(index, "differ", text, raws)
        return self.record(index, "same", text, raws)

    def same(self, oracle, solution):
        """Whether the solution's output agrees with the oracle's."""
        expected = output_of(oracle, self.programs["oracle"], self.spec["mark"])
        actual = output_of(solution, self.programs["solution"], self.spec["mark"])
        if self.spec["style"] == "stdin":
            return tokens_match(actual, expected, self.spec["tolerance"])
        return same_value(actual, expected, self.spec["tolerance"])

    def record(self, index, status, text, raws):
        """The record of one item: brief for a passing one under "failures", whole otherwise."""
        record = {"i": index, "status": status}
        if text is not None:
            record["digest"] = binascii.crc32(text)
            record["size"] = len(text)
        record["cpu"] = {role: raw["cpu_s"] for role, raw in raws.items()}
        if status != "same" or self.spec["record"] == "all":
            record["input"] = None if text is None else text.decode("utf-8", "replace")
            record["raws"] = {role: shown(raw) for role, raw in raws.items()}
        return record

    def emit(self, record):
        """Write one record line to the judge."""
        line = binascii.b2a_base64(marshal.dumps(record))
        self.written += len(line)
        view = memoryview(line)
        while view:
            view = view[os.write(1, view) :]

    def run_role(self, role, feed, argv_extra, limits, call=None):
        """Run one program on one input in a forked child; the raw result, shaped like the shim's."""
        program = self.programs[role]
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        stdin_fd = memory_file(feed)
        start = time.monotonic()
        pid, error = None, ""
        for attempt in range(FORK_TRIES):
            try:
                pid = self.start_child(program, (stdin_fd, out_w, err_w), limits, argv_extra, call)
                break
            except BlockingIOError as exc:  # uid 65534's process limit is shared with other sandboxes
                error = f"{type(exc).__name__}: {exc}"
                time.sleep(0.01 * (attempt + 1))
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
                break
        for fd in (out_w, err_w, stdin_fd):
            os.close(fd)
        if pid is None:
            for fd in (out_r, err_r):
                os.close(fd)
            return exec_failure(error)
        watch = shim.watch_child(pid, out_r, err_r, self.wake_r, limits, start)
        wall = time.monotonic() - start
        for fd in (out_r, err_r):
            os.close(fd)
        self.tidy()
        return shim.raw_result(watch, wall, None)

    def start_child(self, program, fds, limits, argv_extra, call):
        """Start the program on the given stdin/stdout/stderr; its pid. A binary is spawned (no copy of
        this interpreter's memory) in its own session, and gets its CPU limit right after; a Python
        program runs in a forked child."""
        if "argv" not in program:
            pid = os.fork()
            if pid == 0:
                child(program, fds, limits, argv_extra, call)
            return pid
        argv = program["argv"] + argv_extra
        actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
        pid = os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=actions, setsid=True)
        cpu = max(1, int(limits["cpu_s"] + 0.999))
        try:
            shim.resource.prlimit(pid, shim.resource.RLIMIT_CPU, (cpu, cpu + 1))
        except OSError:
            pass  # it already ended; the watch below also checks its CPU time
        return pid

    def tidy(self):
        """Sweep processes the program left behind (only when there are any) and empty the writable
        folders."""
        if leftovers():
            shim.sweep(self.spec["sweep"])
        shim.clean(self.folders)


def safe_folders(folders):
    """The folders to empty between inputs, as the judge listed them (the private work folder, and /tmp
    in the strong sandbox); a shared /tmp is never on it: outside a PID namespace (where the loop's parent,
    the shim, is not PID 1) only folders other than /tmp are kept."""
    inside_namespace = os.getppid() == 1
    return [folder for folder in folders if inside_namespace or os.path.realpath(folder) != "/tmp"]


def leftovers():
    """Whether any child of the loop is still alive (orphans reparent here: the loop is a subreaper);
    reaps the ended ones on the way."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def exec_failure(message):
    """The raw result of a program that could not be started."""
    return {
        "exit": 127,
        "signal": None,
        "cpu_s": 0.0,
        "wall_s": 0.0,
        "maxrss_kb": 0,
        "stdout": b"",
        "stderr": message.encode(),
        "stdout_bytes": 0,
        "stderr_bytes": len(message),
        "ole": False,
        "wall_exceeded": False,
        "cpu_exceeded": False,
        "exec_error": message,
    }


def memory_file(data):
    """A file descriptor at the start of an in-memory file holding data (the child's stdin)."""
    fd = os.memfd_create("input", os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def succeeded(raw, limits):
    """Whether a run ended normally within its limits."""
    return (
        raw["exit"] == 0
        and not raw["ole"]
        and not raw["wall_exceeded"]
        and not raw["cpu_exceeded"]
        and raw["cpu_s"] <= limits["cpu_s"]
    )


def output_of(raw, program, mark):
    """What a run answered: its stdout, or for a C++ function harness the value after the result mark."""
    text = raw["stdout"].decode("utf-8", "replace")
    if "argv" in program and mark:
        lines = [line for line in text.split("\n") if line.startswith(mark)]
        return lines[-1][len(mark) :] if lines else ""
    return text


def same_value(actual, expected, tolerance):
    """Function style: the two printed values are equal as Python literals (or as text)."""
    import ast

    try:
        return values_match(ast.literal_eval(actual.strip()), ast.literal_eval(expected.strip()), tolerance)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return actual.strip() == expected.strip()


def shown(raw):
    """A raw result as it travels back: output as bytes, stderr cut to its end."""
    result = dict(raw)
    if len(result["stderr"]) > STDERR_SHOWN:
        result["stderr"] = result["stderr"][-STDERR_SHOWN:]
    return result


# --- in the forked child ------------------------------------------------------------------------------


def child(program, fds, limits, argv_extra, call):
    """In the forked child: own session, stdio, CPU limit, then run the Python program; never returns."""
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        close_other_files()
        shim.signal.set_wakeup_fd(-1)
        shim.signal.signal(shim.signal.SIGCHLD, shim.signal.SIG_DFL)
        cpu = max(1, int(limits["cpu_s"] + 0.999))
        shim.set_limit(shim.resource.RLIMIT_CPU, cpu, cpu + 1)
        shim.signal.signal(shim.signal.SIGPIPE, shim.signal.SIG_IGN)
        os._exit(run_python(program, argv_extra, call))
    except BaseException as exc:  # noqa: BLE001 - anything here is the run's failure
        try:
            os.write(2, f"{type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(127)


def close_other_files():
    """Close every descriptor but stdin, stdout and stderr (a forked Python program must not hold the
    loop's pipes); listed from /proc, since closing the whole range one by one is slow."""
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        open_fds = range(3, 1024)
    for fd in open_fds:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass


def run_python(program, argv_extra, call):
    """Run a Python program (or, for a function-style call, its module and then the call) as the
    interpreter would run the script; return the exit status."""
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    if "error" in program:
        sys.stderr.write(program["error"])
        sys.stderr.flush()
        return 1
    path = program["python"]
    sys.argv = [path, *argv_extra]
    sys.path[0] = os.path.dirname(path)
    module = type(sys)("__main__")
    module.__file__ = path
    module.__builtins__ = __builtins__
    sys.modules["__main__"] = module
    status = 0
    result_channel = None
    try:
        if call is not None:
            result_channel = open(os.dup(1), "w", encoding="utf-8")
            os.dup2(2, 1)
        exec(program["code"], module.__dict__)
        if call is not None:
            status = answer_call(module.__dict__, call, program.get("entry"), result_channel)
        finish_threads()
    except SystemExit as exc:
        status = exit_status(exc.code)
    except BaseException:  # noqa: BLE001 - the program's failure, reported as the interpreter would
        import traceback

        traceback.print_exc()
        status = 1
    for stream in (sys.stdout, sys.stderr, result_channel):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            status = status or 1
    return status


def answer_call(namespace, call, entry_point, channel):
    """Evaluate a function-style call in the module's namespace and write the value's repr."""
    bind_callee(namespace, call, entry_point)
    value = eval(call, namespace)
    channel.write(safe_repr(value) + "\n")
    return 0


def finish_threads():
    """Wait for the program's non-daemon threads, as the interpreter does at exit."""
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()


def exit_status(code):
    """The exit status of SystemExit(code), as the interpreter computes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
