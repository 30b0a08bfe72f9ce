"""The shim: runs inside the sandbox, forks the program once per test, applies the limits, watches it and
writes one exact JSON result line per test (exit status, CPU and wall time, peak memory, output).

This file runs as a standalone script (`python -E -s -S shim.py SPEC`) with nothing but the standard
library, and imports only modules that load fast; it must not import the `sandbox` package. The spec is a
marshal file of:

    {"tests": [{"argv": [...], "stdin": PATH | null}], "env": {...}, "cwd": PATH, "clean": [PATH, ...],
     "limits": {"cpu_s", "wall_s", "memory_bytes", "output_bytes", "nproc", "fsize_bytes", "nofile",
                "stack_bytes"},
     "uid": INT | null, "gid": INT | null, "sweep": "namespace" | "descendants", "seccomp": {...} | null}

Each result goes to stdout as an 8-byte little-endian length followed by a marshal dump of a dict.
"""

from __future__ import annotations

import _signal as signal  # the C module: `signal` would import enum, which is slow to load
import errno
import marshal
import os
import resource
import select
import stat
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
CLONE_THREAD = 0x10000
STDERR_KEEP = 64 * 1024
READ_CHUNK = 1 << 16
CPU_CHECK_S = 0.05
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> int:
    """Run every test of the spec named on the command line and print one result line each."""
    with open(argv[1], "rb") as handle:
        spec = marshal.load(handle)
    if spec["sweep"] == "descendants":
        prctl = become_subreaper()
    else:
        prctl = None
    seccomp_filter = build_seccomp(spec.get("seccomp"))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    for index, test in enumerate(spec["tests"]):
        result = run_test(spec, test, wake_r, seccomp_filter, prctl)
        result["index"] = index
        sweep(spec["sweep"])
        clean(spec.get("clean", []))
        frame = marshal.dumps(result)
        sys.stdout.buffer.write(len(frame).to_bytes(8, "little") + frame)
        sys.stdout.buffer.flush()
    return 0


def become_subreaper():
    """Make orphaned descendants (double-forked daemons) reparent to the shim so the sweep finds them, and
    sweep them all when the judge dies (outside a PID namespace nothing else would end them); return prctl."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGTERM, sweep_and_exit)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() == 1:  # the judge died before the shim could ask to be told
        sweep_and_exit()
    return libc.prctl


def sweep_and_exit(*_: object) -> None:
    """The judge is gone: kill every descendant (grandchildren included) and end."""
    sweep("descendants")
    os._exit(1)


def build_seccomp(config: dict | None):
    """Return a libseccomp filter (no sockets but AF_UNIX, no namespaces, ptrace or signals to the judge),
    or None where not asked for."""
    if not config:
        return None
    if config.get("module_dir") and config["module_dir"] not in sys.path:
        sys.path.append(config["module_dir"])
    import ctypes.util

    # The judge already knows the libraries' names: skip find_library's slow ldconfig/gcc subprocesses.
    known, search = config.get("libraries", {}), ctypes.util.find_library
    ctypes.util.find_library = lambda name: known.get(name) or search(name)
    import pyseccomp as sc

    deny = sc.ERRNO(errno.EPERM)
    filt = sc.SyscallFilter(sc.ALLOW)
    for family in (2, 10, 16, 17):  # AF_INET, AF_INET6, AF_NETLINK, AF_PACKET
        filt.add_rule(deny, "socket", sc.Arg(0, sc.EQ, family))
    for name in ("unshare", "setns", "mount", "ptrace", "process_vm_writev", "process_vm_readv", "bpf"):
        filt.add_rule(deny, name)
    for name in ("io_uring_setup", "pidfd_open", "pidfd_send_signal", "perf_event_open", "keyctl"):
        filt.add_rule(deny, name)
    if config.get("no_fork"):
        filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # so that threads fall back to clone()
        filt.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
        filt.add_rule(deny, "fork")
        filt.add_rule(deny, "vfork")
    filt.add_rule(deny, "kill", sc.Arg(0, sc.MASKED_EQ, 0x80000000, 0x80000000))  # groups, -1
    for pid in {os.getpid(), int(config.get("judge_pid", 0))} - {0}:
        filt.add_rule(deny, "kill", sc.Arg(0, sc.EQ, pid))
        filt.add_rule(deny, "tkill", sc.Arg(0, sc.EQ, pid))
        filt.add_rule(deny, "tgkill", sc.Arg(0, sc.EQ, pid))
    return filt


def run_test(spec: dict, test: dict, wake_r: int, seccomp_filter, prctl) -> dict:
    """Fork the program for one test, watch it to its end and return what happened."""
    limits = spec["limits"]
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    fail_r, fail_w = os.pipe2(os.O_CLOEXEC)
    stdin_path = test.get("stdin") or "/dev/null"
    stdin_fd = os.open(stdin_path, os.O_RDONLY | os.O_CLOEXEC)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        exec_child(spec, test, (stdin_fd, out_w, err_w), fail_w, seccomp_filter, prctl)
    for fd in (out_w, err_w, fail_w, stdin_fd):
        os.close(fd)
    watch = watch_child(pid, out_r, err_r, wake_r, limits, start)
    wall = time.monotonic() - start
    failure = read_all(fail_r).decode("utf-8", "replace")
    for fd in (out_r, err_r, fail_r):
        os.close(fd)
    return raw_result(watch, wall, failure or None)


def raw_result(watch, wall, exec_error):
    """One run's raw result (what the judge classifies) from watch_child's record and the wall time."""
    status, usage = watch["status"], watch["usage"]
    return {
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": wall,
        "maxrss_kb": usage.ru_maxrss,
        "stdout": bytes(watch["stdout"]),
        "stderr": bytes(watch["stderr"]),
        "stdout_bytes": watch["stdout_bytes"],
        "stderr_bytes": watch["stderr_bytes"],
        "ole": watch["ole"],
        "wall_exceeded": watch["wall_exceeded"],
        "cpu_exceeded": watch["cpu_exceeded"],
        "exec_error": exec_error,
    }


def exec_child(spec: dict, test: dict, fds: tuple[int, int, int], fail_w: int, seccomp_filter, prctl) -> None:
    """In the forked child: new session, limits, unprivileged uid, seccomp, then exec; never returns."""
    try:
        os.setsid()
        if prctl is not None:  # be killed when the shim dies
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        if spec.get("gid") is not None:
            os.setgroups([])
            os.setgid(spec["gid"])
            os.setuid(spec["uid"])
        apply_limits(spec["limits"], spec["sweep"] == "descendants")
        os.chdir(spec["cwd"])
        if seccomp_filter is not None:
            seccomp_filter.load()
        argv = test["argv"]
        os.execve(argv[0], argv, spec["env"])
    except BaseException as exc:  # noqa: BLE001 - anything here is reported, then the child ends
        try:
            os.write(fail_w, f"{type(exc).__name__}: {exc}".encode())
        finally:
            os._exit(127)


def apply_limits(limits: dict, shared_uid: bool) -> None:
    """Set the rlimits of the program; where the uid is shared with the host, count its processes too."""
    cpu = max(1, int(limits["cpu_s"] + 0.999))
    set_limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    set_limit(resource.RLIMIT_AS, limits["memory_bytes"])
    set_limit(resource.RLIMIT_STACK, limits["stack_bytes"])
    set_limit(resource.RLIMIT_FSIZE, limits["fsize_bytes"])
    set_limit(resource.RLIMIT_NOFILE, limits["nofile"])
    set_limit(resource.RLIMIT_CORE, 0)
    # Root is exempt from RLIMIT_NPROC, so counting its processes would only cost time.
    nproc = limits["nproc"] + (count_processes(os.getuid()) if shared_uid and os.getuid() != 0 else 0)
    set_limit(resource.RLIMIT_NPROC, nproc)


def set_limit(which: int, soft: int, hard: int | None = None) -> None:
    """Lower one rlimit to soft/hard, never above the current hard limit."""
    _, current_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def count_processes(uid: int) -> int:
    """How many processes (threads included) the uid already runs, for a process limit on top of them."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                total += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:
            continue
    return total


def watch_child(pid: int, out_r: int, err_r: int, wake_r: int, limits: dict, start: float) -> dict:
    """Collect the program's output until it ends, enforcing the wall, CPU and output limits (the CPU
    rlimit counts whole seconds, so CPU time is also checked every CPU_CHECK_S)."""
    state = {"stdout": bytearray(), "stderr": bytearray(), "stdout_bytes": 0, "stderr_bytes": 0}
    state.update(ole=False, wall_exceeded=False, cpu_exceeded=False, status=None, usage=None)
    poller = select.poll()
    open_fds = {out_r: "stdout", err_r: "stderr"}
    for fd in (*open_fds, wake_r):
        poller.register(fd, select.POLLIN)
    deadline = start + limits["wall_s"]
    while state["status"] is None:
        waited, status, usage = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            state["status"], state["usage"] = status, usage
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            state["wall_exceeded"] = True
            kill_program(pid)
            break
        if cpu_seconds(pid) > limits["cpu_s"]:
            state["cpu_exceeded"] = True
            kill_program(pid)
            break
        for fd, _ in poller.poll(max(1, int(min(remaining, CPU_CHECK_S) * 1000) + 1)):
            if fd == wake_r:
                read_all(wake_r)
            elif not read_output(fd, open_fds, poller, state, limits):
                state["ole"] = True
                kill_program(pid)
        if state["ole"]:
            break
    if state["status"] is None:
        _, state["status"], state["usage"] = os.wait4(pid, 0)
    drain(open_fds, state, limits)
    return state


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a running process has used so far, from /proc; 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def read_output(fd: int, open_fds: dict, poller, state: dict, limits: dict) -> bool:
    """Read one chunk from the program's stdout or stderr; False once the output limit is exceeded."""
    chunk = os.read(fd, READ_CHUNK)
    name = open_fds.get(fd)
    if name is None:
        return True
    if not chunk:
        poller.unregister(fd)
        del open_fds[fd]
        return True
    state[f"{name}_bytes"] += len(chunk)
    keep = limits["output_bytes"] if name == "stdout" else STDERR_KEEP
    room = keep - len(state[name])
    if room > 0:
        state[name] += chunk[:room]
    return state[f"{name}_bytes"] <= limits["output_bytes"]


def drain(open_fds: dict, state: dict, limits: dict) -> None:
    """Read what the ended program left in its pipes without waiting on any leftover writer."""
    for fd in list(open_fds):
        os.set_blocking(fd, False)
        while fd in open_fds:
            try:
                if not read_output(fd, open_fds, _NoPoller(), state, limits):
                    state["ole"] = True
                    break
            except BlockingIOError:
                break


class _NoPoller:
    """Stands in for a poller once polling is over."""

    def unregister(self, fd: int) -> None:
        """Nothing to unregister."""


def kill_program(pid: int) -> None:
    """Kill the program's whole process group."""
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass


def read_all(fd: int) -> bytes:
    """Read a non-blocking or finished pipe to its current end."""
    data = bytearray()
    while True:
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    return bytes(data)


def sweep(mode: str) -> None:
    """Kill and reap every process the program left behind."""
    for _ in range(1000):
        if mode == "namespace":
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            left = namespace_processes()
        else:
            left = descendants(os.getpid())
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        reaped = reap()
        if not left and not reaped:
            return
        if not reaped:
            time.sleep(0.001)


def reap() -> bool:
    """Reap every ended child; True when at least one was reaped."""
    reaped = False
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped = True


def namespace_processes() -> list[int]:
    """Processes in this PID namespace other than its init and the shim."""
    own = {1, os.getpid()}
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) not in own]


def descendants(root: int) -> list[int]:
    """Every live descendant of root, found through the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def clean(folders: list[str]) -> None:
    """Empty the writable folders between tests: only what the program could have written, so never
    inside a mount (such as the read-only bind of an interpreter that lives under /tmp)."""
    for folder in folders:
        try:
            device = os.lstat(folder).st_dev
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            remove_tree(os.path.join(folder, entry), device)


def remove_tree(path: str, device: int) -> None:
    """Delete a file or a folder with everything in it, ignoring what cannot be deleted and not descending
    into another file system (a mount point is left as it is)."""
    try:
        info = os.lstat(path)
        if info.st_dev != device:
            return
        if stat.S_ISDIR(info.st_mode):
            for entry in os.scandir(path):
                remove_tree(entry.path, device)
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv))
