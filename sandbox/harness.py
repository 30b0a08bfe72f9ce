"""The function-call harness: runs inside the child, calls the solution, prints a JSON result line."""

HARNESS = r"""
import json, sys, traceback
_src = open(sys.argv[1], encoding="utf-8").read()
_call, _expected = sys.argv[2], sys.argv[3]
_ns = {"__name__": "__solution__"}
def _norm(v):
    if isinstance(v, tuple):
        return [_norm(x) for x in v]
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {repr(k): _norm(x) for k, x in v.items()}
    if isinstance(v, float):
        return round(v, 6)
    return v
try:
    exec(compile(_src, "solution.py", "exec"), _ns)
    _value = eval(_call, _ns)
    try:
        _want = eval(_expected, _ns)
    except Exception:
        _want = _expected
        _value_cmp = str(_value) == _expected or repr(_value) == _expected
    else:
        _value_cmp = _norm(_value) == _norm(_want)
    print("\n__VIBE_RESULT__" + json.dumps({"ok": bool(_value_cmp), "actual": repr(_value)}))
except MemoryError:
    print("\n__VIBE_RESULT__" + json.dumps({"error": "MemoryError", "message": "MemoryError"}))
except RecursionError:
    print("\n__VIBE_RESULT__" + json.dumps({"error": "RecursionError", "message": "maximum recursion depth exceeded"}))
except BaseException as exc:
    print("\n__VIBE_RESULT__" + json.dumps({"error": type(exc).__name__, "message": traceback.format_exception_only(exc)[-1].strip()}))
"""
