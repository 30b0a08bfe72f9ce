"""Oracles from text: the brute-force and generator requests (and no other request using their words), the
programs in replies, function-style inputs made from the examples, and ranking by agreement."""

from __future__ import annotations

import ast
import gzip
import inspect
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen import prompts
from codegen.oracles import (
    agreement_ranking,
    brute_force_messages,
    function_calls,
    generator_messages,
    parameter_names,
    program_from_reply,
)
from codegen.pipeline import stress_failure
from codegen.tasks import extract_tasks
from sandbox.stress import Counterexample, Program, StressReport
from sandbox.verdicts import Verdict
from tests.datasets import HUMANEVAL

PY_FUNCTION = '''
def count_pairs(nums: list[int], k: int) -> int:
    """Return how many pairs i < j have nums[i] + nums[j] == k.

    Constraints:
    1 <= nums.length <= 10^5
    -10^9 <= nums[i] <= 10^9
    0 <= k <= 10

    >>> count_pairs([1, 2, 3], 4)
    1
    >>> count_pairs([2, 2], 4)
    1
    """
    # TODO: implement
    pass
'''

CPP_STDIN = """/*
Given n integers a_1..a_n, print the maximum sum of a contiguous subarray.
Constraints: 1 <= n <= 2*10^5, |a_i| <= 10^9.

Sample Input
3
1 -2 3

Sample Output
3
*/
#include <bits/stdc++.h>
using namespace std;

int main() {
    // TODO: read the array and print the answer
}
"""

PY_METHOD = '''
class Solution:
    def longest(self, s: str) -> int:
        """Return the length of the longest block of equal letters in s, which consists of lowercase
        English letters.

        Example 1:
        Input: s = "aab"
        Output: 2
        """
        # TODO
        pass
'''


def only(text: str, language: str):
    """The single task of a source text."""
    (task,) = extract_tasks(text, language)
    return task


def all_prompts(task) -> dict[str, list[dict[str, str]]]:
    """Every request a task can produce: each `*_messages` builder in codegen.prompts (with and without a
    failure for the Fix prompt, a stress-test counterexample included) and the two oracle requests."""
    report = StressReport(
        Verdict.WA, 12, "brute force (brute.py)", Counterexample("3\n1 -2 3\n", "3", "2", Verdict.WA)
    )
    out = {}
    builders = [(n, f) for n, f in inspect.getmembers(prompts, inspect.isfunction) if n.endswith("_messages")]
    assert {"task_messages", "optimize_messages", "explain_messages"} <= {n for n, _ in builders}
    for name, builder in builders:
        out[name] = builder(task)
        if "failure" in inspect.signature(builder).parameters:
            out[name + " (fix)"] = builder(task, failure="WA on f(1): expected 2, got 3")
            out[name + " (fix after stress)"] = builder(task, failure=stress_failure(report))
    out["brute_force_messages"] = brute_force_messages(task)
    out["generator_messages"] = generator_messages(task)
    return out


def text_of(messages: list[dict[str, str]]) -> str:
    """All the text of a chat, lowercased."""
    return "\n".join(m["content"] for m in messages).lower()


@pytest.mark.parametrize(
    ("source", "language"), [(PY_FUNCTION, "python"), (CPP_STDIN, "cpp"), (PY_METHOD, "python")]
)
def test_oracle_words_appear_only_in_their_own_request(source: str, language: str):
    """ "brute force" is said only by the brute-force request and "generator" only by the generator
    request, in every prompt builder the product has (a reply cannot be taken for the other kind)."""
    task = only(source, language)
    for name, messages in all_prompts(task).items():
        text = text_of(messages)
        assert ("brute force" in text) == (name == "brute_force_messages"), name
        assert ("generator" in text) == (name == "generator_messages"), name


def test_brute_force_request():
    """The request asks for the simplest obviously correct brute force, allows Python for a C++ task, gives
    the statement and the samples, and never shows the candidate's code (it could share its bug)."""
    task = only(CPP_STDIN, "cpp")
    text = text_of(brute_force_messages(task))
    assert "the simplest obviously correct brute force for small inputs, no matter how slow" in text
    assert "```python" in text and "```cpp" in text
    assert "maximum sum of a contiguous subarray" in text
    assert "1 -2 3" in text and "standard input" in text
    function = only(PY_FUNCTION, "python")
    text = text_of(brute_force_messages(function, system_prompt="custom system"))
    assert "`count_pairs`" in text and "def count_pairs(nums: list[int], k: int) -> int:" in text
    assert "count_pairs([1, 2, 3], 4) -> 1" in text
    assert "# todo" not in text and "pass" not in text.split("signature:")[1].split("```")[1]
    assert brute_force_messages(function, system_prompt="custom system")[0]["content"] == "custom system"
    method = text_of(brute_force_messages(only(PY_METHOD, "python")))
    assert "method of class `solution`" in method


def test_generator_request():
    """The request states the `gen SEED [N]` convention, the constraints read from the statement, the
    input format by its samples, and asks for Python."""
    text = text_of(generator_messages(only(CPP_STDIN, "cpp")))
    assert "`gen seed [n]`" in text and "random.seed(seed)" in text
    assert "1 <= n <= 200000" in text and "-1000000000 <= a <= 1000000000" in text
    assert "sample input 1" in text and "```python" in text


def test_program_from_reply_fence_decides_language():
    """The last Python or C++ block of the final answer is the program; its fence says the language, an
    untagged block is the default, reasoning and other languages' blocks are ignored."""
    reply = "<think>```cpp\nint wrong;\n```</think>Here:\n```python\nprint(1)\n```\nDone."
    assert program_from_reply(reply, "cpp", "brute") == Program("print(1)\n", "python", "brute")
    assert program_from_reply("```c++\nint main() {}\n```", "python", "b").language == "cpp"
    assert program_from_reply("```\nint main() {}\n```", "cpp", "b").language == "cpp"
    two = "```python\nprint(2)\n```\n```text\n3\n```"
    assert program_from_reply(two, "cpp", "b").code == "print(2)\n"
    assert program_from_reply("```java\nclass A {}\n```", "cpp", "b") is None
    assert program_from_reply("no code at all", "python", "b") is None
    assert program_from_reply("<think>still thinking ```python\nx = 1", "python", "b") is None
    cut = program_from_reply("```python\nprint(1)\nprint(", "cpp", "gen")
    assert cut is not None and cut.language == "python" and cut.name == "gen"


def test_function_calls_follow_the_examples_and_the_statement():
    """Calls have the examples' form and types, stay within the stated bounds (k in 0..10, lists never
    empty), include negatives, zero and duplicates, leave out the samples, and come small first."""
    task = only(PY_FUNCTION, "python")
    calls = function_calls(task, 200, seed=3)
    assert len(calls) == 200 and len(set(calls)) == 200
    assert calls == sorted(calls, key=len)
    assert "count_pairs([1, 2, 3], 4)" not in calls and "count_pairs([2, 2], 4)" not in calls
    values = [parsed(call, "count_pairs") for call in calls]
    lists = [args[0] for args, _ in values]
    ks = [args[1] for args, _ in values]
    assert all(1 <= len(v) <= 8 for v in lists) and all(0 <= k <= 10 for k in ks)
    flat = [x for v in lists for x in v]
    assert min(flat) < 0 and 0 in flat and any(len(set(v)) < len(v) for v in lists)
    assert function_calls(task, 200, seed=3) == calls
    assert function_calls(task, 200, seed=4) != calls


def test_function_calls_for_a_method_keep_the_call_form():
    """A LeetCode method's calls use the examples' keyword form and the lowercase alphabet it states."""
    calls = function_calls(only(PY_METHOD, "python"), 40)
    assert calls and all(call.startswith("longest(s=") for call in calls)
    strings = [parsed(call, "longest")[1]["s"] for call in calls]
    assert all(set(s) <= set("abc") and s for s in strings)
    assert 'longest(s="aab")' not in calls and "longest(s='aab')" not in calls


def test_function_calls_read_words_and_signs():
    """ "a positive integer n" keeps n >= 1; nested lists stay lists of lists; a stdin task has none."""
    source = (
        "def grid_sum(grid, n):\n"
        '    """Sum the first n rows of grid; n is a positive integer.\n\n'
        "    >>> grid_sum([[1, 2], [3, 4]], 1)\n    3\n    >>> grid_sum([[5, 6]], 1)\n    11\n"
        '    """\n    # TODO\n    pass\n'
    )
    calls = function_calls(only(source, "python"), 60, seed=1)
    for call in calls:
        (grid, n), _ = parsed(call, "grid_sum")
        assert n >= 1 and isinstance(grid, list) and all(isinstance(row, list) for row in grid)
        assert len({len(row) for row in grid}) <= 1  # the examples' rows are all the same length
    assert function_calls(only(CPP_STDIN, "cpp"), 10) == []


def parsed(call: str, name: str) -> tuple[list, dict]:
    """The literal arguments of a call of `name`."""
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call) and ast.unparse(node.func) == name
    return [ast.literal_eval(a) for a in node.args], {k.arg: ast.literal_eval(k.value) for k in node.keywords}


literals = st.recursive(
    st.one_of(st.integers(-50, 50), st.booleans(), st.text("abc xyz", max_size=5), st.none()),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seeds=st.lists(st.tuples(literals, st.integers(-20, 20)), min_size=1, max_size=3),
    low=st.integers(-5, 5),
    span=st.integers(0, 6),
    seed=st.integers(0, 1000),
)
def test_function_calls_are_valid_python_within_bounds(seeds, low: int, span: int, seed: int):
    """Whatever the examples' values, every call parses, calls the function with the examples' arity and
    literal arguments, and keeps `x` within the stated `low <= x <= high`."""
    high = low + span
    doctests = "\n".join(f"    >>> f({a!r}, {x!r})\n    0" for a, x in seeds)
    source = f'def f(a, x):\n    """Constraint: {low} <= x <= {high}.\n\n{doctests}\n    """\n    # TODO\n    pass\n'
    task = only(source, "python")
    for call in function_calls(task, 30, seed):
        args, keywords = parsed(call, "f")
        assert len(args) == 2 and not keywords
        assert low <= args[1] <= high


def test_parameter_names_in_several_languages():
    """Parameter names come from Python, C++, Java, Rust and Go signatures (self left out)."""
    assert parameter_names("def f(self, nums: list[int], k=3):", "python") == ["nums", "k"]
    assert parameter_names("vector<int> f(vector<pair<int,int>>& edges, int n)", "cpp") == ["edges", "n"]
    assert parameter_names("public int f(int[] nums, String s)", "java") == ["nums", "s"]
    assert parameter_names("fn f(&self, nums: Vec<i32>, k: i64) -> i64", "rust") == ["nums", "k"]
    assert parameter_names("func f(nums []int, k int) int", "go") == ["nums", "k"]


def test_agreement_ranking():
    """The largest group that agrees on every input (among sample-passers) comes first; a candidate that
    disagrees, crashes or fails the samples is ranked down, closer ones first."""
    outputs = {
        0: ["1", "2", "3"],
        1: ["1", "2", "4"],  # disagrees on one input
        2: ["1", "2 ", "3"],  # agrees up to whitespace
        3: ["1", "2", "3"],  # agrees but fails the samples
        4: [None, None, "3"],  # crashes
        5: ["1", "2", "3"],
    }
    ranking = agreement_ranking(outputs, passes_samples={0, 1, 2, 4, 5})
    assert ranking[:3] == [0, 2, 5]
    assert ranking[3:] == [1, 4, 3]
    assert agreement_ranking({0: ["1"], 1: ["2"]}, set()) == [0, 1]
    assert agreement_ranking({}, set()) == []


def test_humaneval_calls_rarely_leave_the_domain():
    """On every HumanEval prompt with examples, the canonical solution runs without an exception on at
    least 97% of the generated calls (99.1% at the time of writing: the misses are a base or a modulus of
    0, an N x N grid of a permutation, and the like)."""
    if not HUMANEVAL.exists():
        pytest.skip(f"{HUMANEVAL} is not on this machine")
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as handle:
        problems = [json.loads(line) for line in handle]
    slow = {"HumanEval/75", "HumanEval/76"}  # canonical solutions too slow (a cubic loop; x ** 0 loops)
    total = failed = 0
    for problem in problems[::3]:
        if problem["task_id"] in slow:
            continue
        task = only(problem["prompt"] + "    # TODO\n    pass\n", "python")
        namespace: dict = {}
        exec(problem["prompt"] + problem["canonical_solution"], namespace)  # trusted data set
        for call in function_calls(task, 15, seed=0):
            total += 1
            try:
                eval(call, namespace)  # trusted solutions on literal arguments
            except Exception:
                failed += 1
    assert total >= 500
    assert failed <= 0.03 * total
