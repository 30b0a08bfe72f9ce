"""C++: compiling inside the sandbox with a binary cache, and the function-style harness generator.

Binaries are cached by a hash of the compiler, its flags and the source, so a re-run does not recompile.
For function style the Python-literal arguments of a call such as `two_sum([2, 7, 11, 15], 9)` are
declared as C++ variables of the parameter types read from the function's signature, the function (or the
method of a LeetCode `class Solution`) is called, and the result is printed as a Python literal that the
judge compares structurally with the expected value.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.compare import values_match
from sandbox.verdicts import Limits, TestCase, TestResult, Verdict

if TYPE_CHECKING:
    from sandbox.judge import Judge

COMPILER = "g++"
FLAGS = ("-std=c++17", "-O2", "-pipe")
COMPILE_LIMITS = Limits(
    time_s=20.0, wall_factor=2.0, memory_mb=1024, output_mb=4, processes=32, file_mb=256, open_files=256
)
RESULT_MARK = "\x1evibe-result "
MESSAGE_LIMIT = 8000


def default_cache_dir() -> Path:
    """Where compiled binaries are kept: $XDG_CACHE_HOME/vibethinker-lsp/cpp or ~/.cache/... ."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vibethinker-lsp" / "cpp"


@functools.lru_cache(maxsize=4)
def compiler_identity(compiler: str) -> tuple[str | None, str]:
    """The compiler's full path and first version line, or (None, reason) where it is missing."""
    path = shutil.which(compiler)
    if path is None:
        return None, f"the C++ compiler {compiler!r} is not installed"
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"the C++ compiler {compiler!r} does not start ({exc})"
    return os.path.realpath(path), (out.stdout.splitlines() or [""])[0]


@dataclass(frozen=True)
class Binary:
    """A compiled program, or the compiler's error."""

    path: Path | None
    error: str | None = None
    warnings: str = ""
    cached: bool = False


class Compiler:
    """Compiles C++ in the judge's sandbox and caches binaries by source hash."""

    def __init__(self, judge: Judge, cache_dir: Path, limits: Limits = COMPILE_LIMITS) -> None:
        """Remember the judge whose sandbox compiles, and where binaries are kept."""
        self.judge = judge
        self.cache_dir = cache_dir
        self.limits = limits

    def key(self, source: str) -> str:
        """The cache key of a source: compiler identity, flags and text."""
        path, version = compiler_identity(COMPILER)
        digest = hashlib.sha256(json.dumps([path, version, FLAGS, source]).encode())
        return digest.hexdigest()[:32]

    def compile(self, source: str) -> Binary:
        """Return the cached binary for the source, compiling it in the sandbox when missing."""
        compiler, reason = compiler_identity(COMPILER)
        if compiler is None:
            return Binary(None, error=reason)
        target = self.cache_dir / f"{self.key(source)}.bin"
        if target.exists():
            return Binary(target, cached=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # The scratch folder lives in the system temp folder, which uid 65534 can reach.
        with tempfile.TemporaryDirectory(prefix="vibe-judge-compile-") as folder:
            return self._compile_in(Path(folder), compiler, source, target)

    def _compile_in(self, folder: Path, compiler: str, source: str, target: Path) -> Binary:
        """Compile in a scratch folder beside the cache and move the binary into place atomically."""
        from sandbox.judge import Run, write

        job, out = folder / "job", folder / "out"
        job.mkdir()
        out.mkdir()
        os.chmod(folder, 0o755)
        os.chmod(job, 0o755)
        os.chmod(out, 0o777)
        write(job / "solution.cpp", source)
        if self.judge.level.name == "strong":
            output, source_path = "/out/prog", "/job/solution.cpp"
        else:
            output, source_path = str(out / "prog"), str(job / "solution.cpp")
        run = Run([compiler, *FLAGS, "-o", output, source_path], None)
        raw = self.judge.execute(job, [run], self.limits, writable=out)[0]
        message = tidy(raw.get("stderr", raw.get("internal", "")), source_path)
        if "internal" in raw or raw.get("exec_error"):
            reason = raw.get("internal") or raw.get("exec_error")
            return Binary(None, error=f"the compiler could not run: {reason}")
        if (
            raw["wall_exceeded"]
            or raw.get("cpu_exceeded")
            or raw["signal"] == 24
            or raw["cpu_s"] > self.limits.time_s
        ):
            return Binary(None, error="compilation exceeded its time limit\n" + message)
        if raw["exit"] != 0 or not (out / "prog").exists():
            return Binary(None, error=message or exit_text(raw))
        staged = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        shutil.copyfile(out / "prog", staged)
        os.chmod(staged, 0o755)
        os.replace(staged, target)
        return Binary(target, warnings=message)


def tidy(message: str, source_path: str) -> str:
    """The compiler's message with sandbox paths shortened and its length capped."""
    text = message.replace(source_path, "solution.cpp").strip()
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "\n..."


def exit_text(raw: dict) -> str:
    """How the compiler ended, where it printed nothing."""
    if raw.get("signal"):
        return f"the compiler was killed by signal {raw['signal']} (memory or output limit)"
    return f"the compiler ended with exit status {raw.get('exit')}"


# --- function style -----------------------------------------------------------------------------------

PRINTERS = r"""
namespace vibe_judge {
inline void show(std::ostream& o, const std::string& s) {
    o << '"';
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') o << '\\' << c;
        else if (c == '\n') o << "\\n";
        else if (c < 32) { char b[8]; std::snprintf(b, sizeof b, "\\x%02x", c); o << b; }
        else o << c;
    }
    o << '"';
}
inline void show(std::ostream& o, const char* s) { show(o, std::string(s)); }
inline void show(std::ostream& o, char c) { show(o, std::string(1, c)); }
inline void show(std::ostream& o, bool b) { o << (b ? "True" : "False"); }
inline void show(std::ostream& o, double d) { o << std::setprecision(17) << d; }
inline void show(std::ostream& o, float d) { show(o, (double)d); }
inline void show(std::ostream& o, long double d) { show(o, (double)d); }
template <class T> typename std::enable_if<std::is_integral<T>::value>::type show(std::ostream& o, T v) { o << +v; }
template <class A, class B> void show(std::ostream& o, const std::pair<A, B>& p);
template <class T> void show(std::ostream& o, const std::vector<T>& v);
template <class T> void show(std::ostream& o, const std::vector<T>& v) {
    o << '[';
    for (size_t i = 0; i < v.size(); ++i) { if (i) o << ", "; show(o, (T)v[i]); }
    o << ']';
}
template <class A, class B> void show(std::ostream& o, const std::pair<A, B>& p) {
    o << '('; show(o, p.first); o << ", "; show(o, p.second); o << ')';
}
}
"""


@dataclass(frozen=True)
class Signature:
    """A C++ function's name, parameter types and whether it is a method of `class Solution`."""

    name: str
    returns: str
    params: list[str]
    method: bool


def function_program(
    code: str, tests: Sequence[TestCase], entry_point: str | None
) -> tuple[str, list[str]] | str:
    """The source with a generated main() that runs test N when given N on stdin, and the stdin of each
    test; or one sentence saying why the calls cannot be translated to C++."""
    cases = []
    for index, test in enumerate(tests):
        try:
            name, args, kwargs = parse_call(test.input)
        except ValueError as exc:
            return f"test {test.name}: {exc}"
        signature = find_signature(code, entry_point or name) or find_signature(code, name)
        if signature is None:
            return f"test {test.name}: no C++ function named {name!r} was found in the solution"
        try:
            cases.append(case_body(index, signature, bind_arguments(signature, args, kwargs)))
        except ValueError as exc:
            return f"test {test.name}: {exc}"
    header = "#include <bits/stdc++.h>\n"
    main = "int main() {\n  int which = -1;\n  std::cin >> which;\n  switch (which) {\n"
    main += "".join(cases) + "  }\n  return 0;\n}\n"
    return header + code + "\n" + PRINTERS + main, [str(i) for i in range(len(tests))]


def parse_call(call: str) -> tuple[str, list, dict]:
    """Split `name(args...)` (or `Solution().name(args...)`) into the name and literal positional and
    keyword arguments."""
    try:
        node = ast.parse(call.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"the call {call!r} is not a valid expression") from exc
    name = called_name(node)
    if name is None:
        raise ValueError(f"the call {call!r} is not a plain function call")
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except ValueError as exc:
        raise ValueError(f"the arguments of {call!r} are not all literals") from exc
    return name, args, kwargs


def called_name(node: ast.AST) -> str | None:
    """The function's name in `name(...)` or `Class().name(...)`, else None."""
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name):
        return node.func.id
    owner = node.func.value if isinstance(node.func, ast.Attribute) else None
    if (
        isinstance(owner, ast.Call)
        and isinstance(owner.func, ast.Name)
        and not owner.args
        and not owner.keywords
    ):
        return node.func.attr
    return None


def find_signature(code: str, name: str) -> Signature | None:
    """Find `RET name(PARAMS) {` in the source (outside comments), and whether it sits in class Solution."""
    stripped = re.sub(r"//[^\n]*|/\*.*?\*/", "", code, flags=re.DOTALL)
    pattern = re.compile(r"([\w:<>,\s\*&]+?)\b" + re.escape(name) + r"\s*\(([^()]*)\)\s*(?:const\s*)?\{")
    match = pattern.search(stripped)
    if match is None:
        return None
    returns = match.group(1).split("\n")[-1].strip()
    returns = re.sub(r"^(public|private|protected)\s*:\s*", "", returns).replace("static ", "").strip()
    params = [param_type(p) for p in split_top(match.group(2)) if p.strip() and p.strip() != "void"]
    return Signature(name, returns, params, inside_solution_class(stripped, match.start()))


def inside_solution_class(code: str, position: int) -> bool:
    """Whether a position lies within the braces of `class Solution` (or `struct Solution`)."""
    for found in re.finditer(r"\b(?:class|struct)\s+Solution\b[^{;]*\{", code):
        depth, index = 1, found.end()
        while depth and index < len(code):
            depth += {"{": 1, "}": -1}.get(code[index], 0)
            index += 1
        if found.end() <= position < index:
            return True
    return False


def split_top(text: str) -> list[str]:
    """Split a parameter list at commas outside angle brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "<") - (char == ">")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def param_type(param: str) -> str:
    """A parameter's value type: its declaration without the name, const and references."""
    text = param.split("=")[0].strip()
    text = re.sub(r"\s*\b\w+\s*$", "", text) if re.search(r"[\w>]\s*[&*\s]\s*\w+\s*$", text) else text
    text = re.sub(r"\bconst\b", "", text).replace("&", "").strip()
    return " ".join(text.split())


def bind_arguments(signature: Signature, args: list, kwargs: dict) -> list[str]:
    """C++ declarations of the arguments, in parameter order."""
    if kwargs:
        if args:
            raise ValueError("mixing positional and keyword arguments is not supported for C++")
        args = list(kwargs.values())
    if len(args) != len(signature.params):
        raise ValueError(
            f"{signature.name} takes {len(signature.params)} arguments but the call gives {len(args)}"
        )
    return [
        f"{ctype} a{i} = {literal(value, ctype)};"
        for i, (ctype, value) in enumerate(zip(signature.params, args, strict=True))
    ]


def literal(value: object, ctype: str) -> str:
    """A Python literal as a C++ initializer for the given type."""
    element = re.match(r"^(?:std::)?vector\s*<\s*(.*)\s*>$", ctype)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) + ("LL" if abs(value) >= 2**31 else "")
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "0.0/0.0"
    if isinstance(value, str):
        if ctype.endswith("char") and len(value) == 1:
            return f"(char){ord(value)}"
        return 'std::string("' + escape(value) + '")'
    if isinstance(value, list | tuple):
        inner = element.group(1) if element else ""
        return "{" + ", ".join(literal(v, inner) for v in value) + "}"
    raise ValueError(f"the value {value!r} has no C++ equivalent here")


def escape(text: str) -> str:
    """Escape a string for a C++ literal."""
    return "".join(
        c if c.isalnum() or c in " _-+.,:;!?()[]{}<>=/|@#$%^&*~`" else f'\\x{ord(c):02x}""' for c in text
    )


def case_body(index: int, signature: Signature, declarations: list[str]) -> str:
    """One `case` of the generated main: declare the arguments, call, print the result line."""
    callee = f"Solution().{signature.name}" if signature.method else signature.name
    call = f"{callee}({', '.join(f'a{i}' for i in range(len(declarations)))})"
    body = "    " + " ".join(declarations) + "\n"
    if signature.returns.endswith("void"):
        body += f'    {call};\n    std::cout << "{RESULT_MARK!s}None" << std::endl;\n'
    else:
        body += f'    auto r = {call};\n    std::cout << "{RESULT_MARK!s}";\n'
        body += "    vibe_judge::show(std::cout, r);\n    std::cout << std::endl;\n"
    return f"  case {index}: {{\n{body}    break;\n  }}\n".replace("\x1e", "\\x1e")


def classify_function(raw: dict, test: TestCase, limits: Limits, tolerance: float) -> TestResult:
    """Turn a C++ function-style run into a verdict by comparing the printed value with the expected."""
    from sandbox.judge import base_result, exit_message

    result = base_result(raw, test)
    if result.verdict is not Verdict.AC:
        return result
    if raw["exit"] != 0:
        result.verdict, result.message = Verdict.RE, exit_message(raw)
        return result
    lines = [line for line in raw["stdout"].split("\n") if line.startswith(RESULT_MARK)]
    if not lines:
        result.verdict, result.message = Verdict.RE, "the function returned no value"
        return result
    printed = lines[-1][len(RESULT_MARK) :]
    result.actual = printed
    try:
        actual, expected = ast.literal_eval(printed), ast.literal_eval(test.output.strip())
    except (ValueError, SyntaxError):
        same = printed.strip() == test.output.strip()
    else:
        same = values_match(actual, expected, tolerance)
    if not same:
        result.verdict, result.message = Verdict.WA, "wrong answer"
    return result
