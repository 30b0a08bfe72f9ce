"""Pasted problems as tasks: statements in Codeforces, AtCoder and LeetCode layouts, code with a TODO, and the
text a Competitive Companion problem becomes — read by the same task reader as source files."""

from __future__ import annotations

import pytest

from codegen.statement import StatementError, problem_text, read_problem, statement_limits, wrap_statement
from devtools.samples import TWO_SUM_SOURCE

CODEFORCES = """A. Watermelon
time limit per test: 1 second
memory limit per test: 64 megabytes

One hot summer day Pete and his friend Billy decided to buy a watermelon.

Input
The first (and the only) input line contains integer number w (1 ≤ w ≤ 100) — the weight of the watermelon.

Output
Print YES, if the boys can divide the watermelon into two parts of even weight, and NO in the opposite case.

Examples
Input
8
Output
YES
Note
For example, the boys can divide the watermelon into two parts of 2 and 6 kilos respectively.
"""

ATCODER = """Time Limit: 2 sec / Memory Limit: 1024 MB

Problem Statement
Given A and B, print A+B.

Input
Input is given from Standard Input in the following format:
A B

Output
Print the answer.

Sample Input 1
1 2

Sample Output 1
3

Sample Input 2
10 20
Sample Output 2
30
"""

LEETCODE = """1. Two Sum
Given an array of integers nums and an integer target, return indices of the two numbers that add up to target.

Example 1:
Input: nums = [2,7,11,15], target = 9
Output: [0,1]
Explanation: Because nums[0] + nums[1] == 9, we return [0, 1].

Example 2:
Input: nums = [3,2,4], target = 6
Output: [1,2]

Constraints:
2 <= nums.length <= 10^4
"""


def pairs(problem) -> list[tuple[str, str]]:
    """The (input, output) pairs of a read problem."""
    return [(e.input, e.output) for e in problem.task.examples]


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_a_codeforces_statement_is_a_stdin_program_with_its_samples_and_limits(language):
    problem = read_problem(CODEFORCES, language)
    assert problem.wrapped and problem.task.style == "stdin" and problem.task.language == language
    assert pairs(problem) == [("8\n", "YES\n")]  # the Input/Output sections' prose is not a sample
    assert (problem.task.time_limit_ms, problem.task.memory_limit_mb) == (1000, 64)
    assert "One hot summer day" in problem.task.source


def test_an_atcoder_statement_keeps_every_sample_and_its_limits():
    problem = read_problem(ATCODER, "cpp")
    assert pairs(problem) == [("1 2\n", "3\n"), ("10 20\n", "30\n")]
    assert (problem.task.time_limit_ms, problem.task.memory_limit_mb) == (2000, 1024)


def test_a_leetcode_statement_in_python_is_a_function_with_named_arguments():
    problem = read_problem(LEETCODE, "python")
    assert problem.task.style == "function" and problem.task.function == "solve"
    assert problem.task.signature.startswith("def solve(nums, target)")
    assert pairs(problem) == [
        ("solve(nums=[2,7,11,15], target=9)", "[0,1]"),
        ("solve(nums=[3,2,4], target=6)", "[1,2]"),
    ]


def test_pasted_code_with_a_todo_is_read_as_it_is():
    problem = read_problem(TWO_SUM_SOURCE, "python")
    assert not problem.wrapped and problem.task.function == "two_sum" and len(problem.task.examples) == 2
    assert problem.source == TWO_SUM_SOURCE


def test_a_statement_without_samples_is_still_a_task_with_nothing_to_verify():
    problem = read_problem("Print the sum of two integers given on one line.", "python")
    assert problem.task.style == "stdin" and not problem.verifiable


@pytest.mark.parametrize(
    ("text", "language", "says"),
    [
        ("", "python", "The problem is empty"),
        (" \n\t\n", "cpp", "The problem is empty"),
        ("x" * 300_000, "python", "longer than"),
        ("A + B", "java", "choose python or cpp"),
    ],
)
def test_bad_input_gets_one_sentence(text, language, says):
    with pytest.raises(StatementError, match=says):
        read_problem(text, language)


def test_a_statement_mentioning_xxx_still_gives_the_wrappers_task():
    text = "Print XXX when there is no answer.\n\nSample Input 1\n0\n\nSample Output 1\nXXX\n"
    source, line = wrap_statement(text, "python")
    problem = read_problem(text, "python")
    assert problem.task.line == line and "TODO" in source.split("\n")[line - 1]
    assert pairs(problem) == [("0\n", "XXX\n")]


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        ("time limit per test: 2 seconds\nmemory limit per test: 256 megabytes", (2000, 256)),
        ("Time Limit: 1.5 sec / Memory Limit: 1024 MB", (1500, 1024)),
        ("Time limit: 500 ms, memory limit: 1 GB", (500, 1024)),
        ("no limits here", (None, None)),
    ],
)
def test_statement_limits(text, limits):
    assert statement_limits(text) == limits


def test_a_companion_problem_as_text_reads_back_with_its_samples_and_limits():
    samples = [("4 5\n", "9\n"), ("1\n2 3\n", "5\n")]
    text = problem_text("C. Sum", "https://codeforces.com/contest/1/problem/C", samples, 1500, 128)
    problem = read_problem(text, "python")
    assert pairs(problem) == samples
    assert (problem.task.time_limit_ms, problem.task.memory_limit_mb) == (1500, 128)
