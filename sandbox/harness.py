"""The function-style harness: runs inside the sandbox as a standalone script (standard library only).

Usage: `python harness.py SOLUTION_FILE` with a marshal request on stdin:
`{"call": "two_sum([2, 7], 9)", "expected": "[0, 1]", "entry_point": "two_sum" | null, "tolerance": 1e-6}`.
It runs the solution, evaluates the call in the solution's namespace, compares the value with the expected
expression structurally and writes one line, a Python literal, to its original stdout:
`{"ok": bool, "actual": repr}` or `{"error": ExceptionName, "message": str}`. Whatever the solution prints
goes to stderr, so it cannot be mistaken for the result. Only fast-loading modules are imported up front.
"""

import marshal
import os
import sys

from compare import values_match

RESULT_LIMIT = 2000


def main(argv):
    """Read the request, run the call, write the result line."""
    result_channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    request = marshal.loads(sys.stdin.buffer.read())
    sys.stdin = open(os.devnull, encoding="utf-8")
    try:
        result = call_solution(argv[1], request)
    except MemoryError:
        result = {"error": "MemoryError", "message": "MemoryError"}
    except RecursionError:
        result = {"error": "RecursionError", "message": "RecursionError: maximum recursion depth exceeded"}
    except BaseException as exc:  # noqa: BLE001 - the solution's failure is the result
        result = {"error": type(exc).__name__, "message": describe_exception(exc)}
    sys.stdout.flush()
    result_channel.write(repr(result) + "\n")
    result_channel.flush()
    return 0


def call_solution(path, request):
    """Execute the solution, evaluate the call and compare it with the expected value."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    namespace = {"__name__": "__main__", "__file__": "solution.py"}
    exec(compile(source, "solution.py", "exec"), namespace)
    bind_callee(namespace, request["call"], request.get("entry_point"))
    value = eval(request["call"], namespace)
    actual = safe_repr(value)
    try:
        expected = eval(request["expected"], namespace)
    except Exception:  # noqa: BLE001 - an expected output that is no expression is compared as text
        text = request["expected"].strip()
        return {"ok": text in (str(value), actual), "actual": actual}
    return {"ok": values_match(value, expected, request.get("tolerance", 1e-6)), "actual": actual}


def bind_callee(namespace, call, entry_point):
    """Make the called name resolve: a LeetCode `Solution` method, or the entry point under another name."""
    import ast

    try:
        node = ast.parse(call, mode="eval").body
    except SyntaxError:
        return
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return
    name = node.func.id
    if name in namespace:
        return
    holder = namespace.get("Solution")
    if isinstance(holder, type) and hasattr(holder, name):
        namespace[name] = getattr(holder(), name)
    elif entry_point and entry_point in namespace:
        namespace[name] = namespace[entry_point]
    elif isinstance(holder, type) and entry_point and hasattr(holder, entry_point):
        namespace[name] = getattr(holder(), entry_point)


def safe_repr(value):
    """repr() cut to a readable length."""
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ is still shown
        text = f"<unprintable {type(value).__name__}: {exc}>"
    return text if len(text) <= RESULT_LIMIT else text[:RESULT_LIMIT] + "..."


def describe_exception(exc):
    """The exception's last line, plus the solution's line where it happened."""
    import traceback

    line = traceback.format_exception_only(type(exc), exc)[-1].strip()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "solution.py"]
    return f"{line} (solution.py line {frames[-1].lineno})" if frames else line


if __name__ == "__main__":
    sys.exit(main(sys.argv))
