"""Timing probe: runs inside the sandbox as a standalone script (standard library only).

Usage: `python complexity_probe.py SOLUTION_FILE` with a JSON request on stdin:
`{"call": "f([3, 1, 2], 'ab', 5)", "budget_s": 2.0, "max_size": 1048576}`. It grows every list and string
argument by doubling (lists get new values in the range of the old ones, sorted if they were sorted; strings
repeat), times the call at each size and prints `{"points": [[n, seconds], ...]}` as its last line.
"""

import ast
import json
import random
import sys
import time

REPEAT_S = 0.02


def main(argv):
    """Time the call at doubling sizes until the budget or the size cap is reached."""
    request = json.loads(sys.stdin.read())
    namespace = {"__name__": "__main__"}
    with open(argv[1], encoding="utf-8") as handle:
        exec(compile(handle.read(), "solution.py", "exec"), namespace)
    node = ast.parse(request["call"], mode="eval").body
    if isinstance(node.func, ast.Name):
        function = resolve(namespace, node.func.id)
    else:
        function = eval(compile(ast.Expression(node.func), "call", "eval"), namespace)
    args = [ast.literal_eval(a) for a in node.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    base = max(length(v) for v in [*args, *kwargs.values()])
    budget, started, points = request["budget_s"], time.perf_counter(), []
    size = base
    while size <= request["max_size"]:
        factor = size / base
        grown = [grow(v, factor) for v in args]
        grown_kw = {k: grow(v, factor) for k, v in kwargs.items()}
        seconds = timed(function, grown, grown_kw)
        points.append([size, seconds])
        elapsed = time.perf_counter() - started
        if elapsed + seconds * 2.5 > budget:
            break
        size *= 2
    print(json.dumps({"points": points}))
    return 0


def resolve(namespace, name):
    """The called function, or the method of a LeetCode-style `Solution`."""
    if name in namespace:
        return namespace[name]
    return getattr(namespace["Solution"](), name)


def length(value):
    """The size of a growable argument (0 for anything else)."""
    return len(value) if isinstance(value, list | str) and value else 0


def grow(value, factor):
    """A list or string `factor` times as long; other values unchanged."""
    if not isinstance(value, list | str) or not value:
        return value
    target = int(len(value) * factor)
    if isinstance(value, str):
        return (value * (target // len(value) + 1))[:target]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        low, high = min(value), max(value)
        rng = random.Random(target)
        spread = max(high - low, target)
        extra = rng.choices(range(low, low + spread + 1), k=target - len(value))
        grown = value + extra
        return sorted(grown) if value == sorted(value) else grown
    return (value * (target // len(value) + 1))[:target]


def timed(function, args, kwargs):
    """The best of a few runs of the call within about REPEAT_S of wall time (fresh argument copies)."""
    best, began = float("inf"), time.perf_counter()
    while True:
        copies = [list(a) if isinstance(a, list) else a for a in args]
        start = time.perf_counter()
        function(*copies, **kwargs)
        best = min(best, time.perf_counter() - start)
        if time.perf_counter() - began > REPEAT_S:
            return best


if __name__ == "__main__":
    sys.exit(main(sys.argv))
