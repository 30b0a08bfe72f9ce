"""Tasks read from source text: markers, functions, styles, ranges, selections and every language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.examples import Example
from codegen.geometry import Position, Range
from codegen.languages import SUPPORTED, grammar, language_for, parser
from codegen.tasks import extract_tasks, file_tasks, function_at

PY_LEETCODE = '''import sys
from typing import List


class Solution:
    def two_sum(self, nums: List[int], target: int) -> List[int]:
        """Return the indices of the two numbers that add up to target.

        Example 1:
        Input: nums = [2,7,11,15], target = 9
        Output: [0,1]
        Explanation: Because nums[0] + nums[1] == 9, we return [0, 1].

        Example 2:
        Input: nums = [3,2,4], target = 6
        Output: [1,2]
        """
        # TODO: one pass with a hash map
        pass
'''


def test_python_leetcode_method_task():
    """A TODO in a LeetCode method gives a function-style task with both examples as keyword calls."""
    (task,) = extract_tasks(PY_LEETCODE, "python")
    assert task.line == 18
    assert task.kind == "todo"
    assert task.text == "one pass with a hash map"
    assert task.function == "two_sum"
    assert task.class_name == "Solution"
    assert task.style == "function"
    assert task.signature == "def two_sum(self, nums: List[int], target: int) -> List[int]:"
    assert task.imports == ("import sys", "from typing import List")
    assert task.examples == (
        Example("two_sum(nums=[2,7,11,15], target=9)", "[0,1]", "leetcode"),
        Example("two_sum(nums=[3,2,4], target=6)", "[1,2]", "leetcode"),
    )
    assert task.docstring.startswith("Return the indices")
    assert task.definition.indent == "    "
    assert task.replace_range == Range(Position(5, 4), Position(18, 12))
    assert task.source.startswith("def two_sum") and task.source.endswith("pass")
    assert task.definition.body.startswith('"""Return') and task.definition.body.endswith("pass")
    assert task.to_json()["examples"][0] == {
        "input": "two_sum(nums=[2,7,11,15], target=9)",
        "output": "[0,1]",
    }


def test_python_marker_above_function_is_replaced_with_it():
    """A marker directly above a decorated function extends the replaced range up to the marker."""
    text = "import functools\n\n# FIXME: memoize this\n@functools.cache\ndef fib(n):\n    return fib(n - 1)\n"
    (task,) = extract_tasks(text, "python")
    assert (task.kind, task.function, task.line) == ("fixme", "fib", 3)
    assert task.replace_range == Range(Position(2, 0), Position(5, 21))
    assert task.definition.range == Range(Position(3, 0), Position(5, 21))
    assert task.marker_range == Range(Position(2, 0), Position(2, 21))


def test_python_doctest_and_asserts_in_file():
    """Doctest lines in the docstring and `assert f(...) == ...` lines in the file are both examples."""
    text = (
        "def add(a, b):\n"
        '    """Add.\n\n    >>> add(1, 2)\n    3\n    """\n'
        "    # XXX wrong sign\n"
        "    return a - b\n\n"
        "assert add(2, 2) == 4\n"
        "assert add(0, 0) == 0, 'zero'\n"
    )
    (task,) = extract_tasks(text, "python")
    assert task.kind == "xxx"
    assert [(e.input, e.output, e.layout) for e in task.examples] == [
        ("add(1, 2)", "3", "doctest"),
        ("add(2, 2)", "4", "assert"),
        ("add(0, 0)", "0", "assert"),
    ]


def test_not_tasks_python():
    """Markers in strings, in docstring prose, mid-sentence, or at module level of a library are ignored."""
    text = (
        '"""Module. TODO: nothing here."""\n'
        "# TODO: module-level note in a library\n\n\n"
        "def f(x):\n"
        '    """TODO: this docstring word is prose."""\n'
        '    s = "# TODO not a comment"\n'
        "    t = '''\n    # FIXME inside a string\n    '''\n"
        "    # this is not a TODO list\n"
        "    return s\n"
    )
    assert extract_tasks(text, "python") == []


CPP_STDIN = """/*
Sample Input 1
3
1 2 3

Sample Output 1
6

Sample Input 2
1
5
Sample Output 2
5
*/
#include <bits/stdc++.h>
using namespace std;

#if 0
// TODO: disabled code is not a task
#endif

int main() {
    // TODO: read n numbers and print their sum
    const char *s = "// TODO: not a comment";
    return 0;
}
"""


def test_cpp_stdin_program_from_comment_samples():
    """A TODO in main of a C++ program with Sample blocks is a stdin task replacing main (the statement,
    includes and helpers stay; the whole file is its source)."""
    (task,) = extract_tasks(CPP_STDIN, "cpp")
    assert task.line == 23
    assert task.function == "main"
    assert task.style == "stdin"
    assert task.text == "read n numbers and print their sum"
    assert task.examples == (Example("3\n1 2 3\n", "6\n", "sample"), Example("1\n5\n", "5\n", "sample"))
    assert task.imports == ("#include <bits/stdc++.h>", "using namespace std;")
    lines = CPP_STDIN.split("\n")
    assert task.replace_range == Range(Position(21, 0), Position(25, 1))
    assert task.program_range == Range(Position(14, 0), Position(len(lines) - 1, 0))
    assert task.source == CPP_STDIN
    assert task.definition.range == Range(Position(21, 0), Position(25, 1))


def test_cpp_if0_else_branch_is_live():
    """In `#if 0 ... #else ... #endif` the else branch is live and `#if 1`'s else branch is dead."""
    text = (
        "int f(int x) {\n#if 0\n    // TODO dead\n#else\n    // TODO live\n#endif\n"
        "#if 1\n    // FIXME live too\n#else\n    // FIXME dead too\n#endif\n    return x;\n}\n"
    )
    assert [(t.kind, t.text) for t in extract_tasks(text, "cpp")] == [("todo", "live"), ("fixme", "live too")]


CPP_LEETCODE = """#include <vector>
using namespace std;

/*
 * Example 1:
 * Input: nums = [2,7,11,15], target = 9
 * Output: [0,1]
 */
class Solution {
public:
    // TODO: hash map
    vector<int> twoSum(vector<int>& nums, int target) {
        return {};
    }

    /* FIXME: handle negatives */
    int absolute(int x) {
        return x;
    }
};

int main() {
    assert(Solution().absolute(-3) == 3);
    assert(Solution().absolute(4) == 4);
}
"""


def test_cpp_leetcode_class_and_asserts():
    """C++ LeetCode methods: examples from the comment above the class and from assert() statements."""
    first, second = extract_tasks(CPP_LEETCODE, "cpp")
    assert (first.function, first.class_name, first.style, first.line) == (
        "twoSum",
        "Solution",
        "function",
        11,
    )
    assert first.examples == (Example("twoSum(nums=[2,7,11,15], target=9)", "[0,1]", "leetcode"),)
    assert first.signature == "vector<int> twoSum(vector<int>& nums, int target)"
    assert first.replace_range == Range(Position(10, 4), Position(13, 5))
    assert (second.kind, second.function, second.text) == ("fixme", "absolute", "handle negatives")
    assert [(e.input, e.output) for e in second.examples] == [("absolute(-3)", "3"), ("absolute(4)", "4")]


def test_cpp_doctest_style_comment_and_braces():
    """C++ comments with call-result lines and brace literals become Python-like examples."""
    text = (
        "// sum({1, 2, 3}) == 6\n// sum({}) -> 0\n"
        "int sum(const std::vector<int>& a) {\n    // TODO\n    return 0;\n}\n"
    )
    (task,) = extract_tasks(text, "cpp")
    assert [(e.input, e.output) for e in task.examples] == [("sum([1, 2, 3])", "6"), ("sum([])", "0")]
    assert task.docstring == "sum({1, 2, 3}) == 6\nsum({}) -> 0"


def test_python_stdin_script_with_module_samples():
    """A Python script reading input() with Sample Input/Output in its module docstring is stdin style."""
    text = (
        '"""Sum.\n\nExample Input\n2 3\n\nExample Output\n5\n"""\n'
        "import sys\n\n"
        "def solve():\n    # TODO: print a + b\n    pass\n\n"
        "if __name__ == '__main__':\n    solve()\n"
    )
    (task,) = extract_tasks(text, "python")
    assert (task.style, task.function) == ("stdin", "solve")
    assert task.examples == (Example("2 3\n", "5\n", "sample"),)
    assert task.signature == "def solve():"


def test_python_module_level_marker_in_program():
    """A module-level marker in a script that reads stdin is a whole-program task."""
    text = "n = int(input())\n# TODO: print the n-th prime\n"
    (task,) = extract_tasks(text, "python")
    assert (task.style, task.function, task.line) == ("stdin", None, 2)
    assert task.replace_range == Range(Position(0, 0), Position(2, 0))


def test_python_main_block_marker_is_a_program_task():
    """A marker under `if __name__ == "__main__":` is a whole-program task even before input is read."""
    text = 'if __name__ == "__main__":\n    # TODO: read two numbers and print their sum\n    pass\n'
    (task,) = extract_tasks(text, "python")
    assert (task.style, task.function, task.text) == ("stdin", None, "read two numbers and print their sum")


def test_cpp_line_comment_samples_and_helper_function():
    """Sample blocks in `//` comments make a C++ program; a marker in a helper is a whole-program task."""
    text = (
        "// Input\n// 2\n// 1 2\n// Output\n// 3\n"
        "#include <iostream>\nusing namespace std;\n\n"
        "long long total(int n) {\n    // TODO: sum the numbers\n    return 0;\n}\n\n"
        "int main() {\n    int n;\n    cin >> n;\n    cout << total(n);\n}\n"
    )
    (task,) = extract_tasks(text, "cpp")
    assert (task.style, task.function) == ("stdin", "total")
    assert task.examples == (Example("2\n1 2\n", "3\n", "sample"),)


def test_cpp_doctest_in_comment():
    """`>>>` doctest lines also work inside C++ comments."""
    text = "/*\n>>> twice(4)\n8\n*/\nint twice(int x) {\n    // TODO\n    return 0;\n}\n"
    (task,) = extract_tasks(text, "cpp")
    assert task.examples == (Example("twice(4)", "8", "doctest"),)


def test_several_tasks_in_line_order():
    """Several markers give several tasks in line order; a line range finds the markers on those lines."""
    text = (
        "def a():\n    # TODO: first\n    pass\n\n"
        "def b():\n    x = 1\n    # FIXME: second\n    return x\n\n"
        "def c():\n    '''Nothing to do.'''\n\n"
        "# TODO: third\ndef d():\n    pass\n"
    )
    tasks = extract_tasks(text, "python")
    assert [(t.line, t.kind, t.function) for t in tasks] == [
        (2, "todo", "a"),
        (7, "fixme", "b"),
        (13, "todo", "d"),
    ]
    assert extract_tasks(text, "python", lines=(6, 8))[0].function == "b"
    assert [t.function for t in extract_tasks(text, "python", lines=(13, 13))] == ["d"]


def test_trailing_comment_after_python_body_belongs_to_function():
    """An indented marker after a docstring-only body (tree-sitter puts it outside) belongs to the function."""
    text = 'class A:\n    def f(self):\n        """Doc."""\n        # TODO: implement\n\nx = 1\n'
    (task,) = extract_tasks(text, "python")
    assert (task.function, task.class_name) == ("f", "A")


def test_function_at_for_hover():
    """function_at returns the innermost function under a position, or None outside functions."""
    text = "x = 1\n\ndef outer():\n    def inner(y):\n        '''>>> inner(1)\n        2\n        '''\n        return y\n"
    hovered = function_at(text, "python", Position(7, 10))
    assert (hovered.function, hovered.kind, hovered.text) == ("inner", "selection", "")
    assert hovered.examples == (Example("inner(1)", "2", "doctest"),)
    assert function_at(text, "python", Position(2, 5)).function == "outer"
    assert function_at(text, "python", Position(0, 2)) is None


def test_marker_with_owner_and_block_comment_continuation():
    """`TODO(name):` is a marker; the following comment lines continue its text."""
    text = "int f() {\n    // TODO(ana): count the pairs\n    // with a two-pointer sweep\n    return 0;\n}\n"
    (task,) = extract_tasks(text, "cpp")
    assert task.text == "count the pairs with a two-pointer sweep"


def test_cph_problem_file_gives_tests_and_limits(tmp_path: Path):
    """The Competitive Programming Helper's .cph problem file supplies stdin tests and limits."""
    source = tmp_path / "a.cpp"
    source.write_text("#include <iostream>\nint main() {\n    // TODO: solve\n}\n")
    (tmp_path / ".cph").mkdir()
    problem = {
        "name": "A",
        "tests": [
            {"id": 1, "input": "1 2\n", "output": "3\n"},
            {"id": 2, "input": "5 5\n", "output": "10\n"},
        ],
        "timeLimit": 1500,
        "memoryLimit": 128,
        "srcPath": str(source),
    }
    (tmp_path / ".cph" / ".a.cpp_0123abcd.prob").write_text(json.dumps(problem))
    language, (task,) = file_tasks(source)
    assert language == "cpp"
    assert task.style == "stdin"
    assert task.examples == (Example("1 2\n", "3\n", "cph"), Example("5 5\n", "10\n", "cph"))
    assert (task.time_limit_ms, task.memory_limit_mb) == (1500, 128)
    assert task.path == source


def test_sample_files_beside_source_make_a_program(tmp_path: Path):
    """NAME.in / NAME.out (or .ans) pairs beside a Python file make a marker in solve() a stdin task."""
    source = tmp_path / "b.py"
    source.write_text("def solve():\n    # TODO: echo twice\n    pass\n\nsolve()\n")
    (tmp_path / "b.in").write_text("7\n")
    (tmp_path / "b.ans").write_text("14\n")
    (tmp_path / "b.2.in").write_text("1\n")
    (tmp_path / "b.2.out").write_text("2\n")
    (tmp_path / "other.in").write_text("0\n")
    (tmp_path / "other.out").write_text("0\n")
    _, (task,) = file_tasks(source)
    assert task.style == "stdin"
    assert [(e.input, e.output) for e in task.examples] == [("1\n", "2\n"), ("7\n", "14\n")]


def test_samples_folder(tmp_path: Path):
    """Pairs in a samples/ folder are used when nothing sits beside the source."""
    source = tmp_path / "c.cpp"
    source.write_text("int main() {\n    /* TODO: solve */\n}\n")
    (tmp_path / "samples").mkdir()
    for i, (sample_in, sample_out) in enumerate([("1\n", "1\n"), ("2\n", "4\n")], start=1):
        (tmp_path / "samples" / f"{i}.in").write_text(sample_in)
        (tmp_path / "samples" / f"{i}.out").write_text(sample_out)
    _, (task,) = file_tasks(source)
    assert [(e.input, e.output) for e in task.examples] == [("1\n", "1\n"), ("2\n", "4\n")]


def test_file_tasks_errors_are_one_sentence(tmp_path: Path):
    """Unsupported or missing files raise ValueError with a clear sentence."""
    with pytest.raises(ValueError, match="unsupported file type"):
        file_tasks(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="no such file"):
        file_tasks(tmp_path / "missing.py")


LANGUAGE_SAMPLES = {
    "python": ("x.py", "def add(a, b):\n    '''>>> add(1, 2)\n    3\n    '''\n    # TODO: add\n    pass\n"),
    "cpp": ("x.cpp", "// add(1, 2) == 3\nint add(int a, int b) {\n    // TODO: add\n    return 0;\n}\n"),
    "java": (
        "X.java",
        "class Solution {\n    /** add(1, 2) == 3 */\n    public int add(int a, int b) {\n"
        "        // TODO: add\n        return 0;\n    }\n}\n",
    ),
    "rust": ("x.rs", "/// add(1, 2) == 3\nfn add(a: i32, b: i32) -> i32 {\n    // TODO: add\n    0\n}\n"),
    "go": (
        "x.go",
        "package main\n\n// add(1, 2) == 3\nfunc add(a int, b int) int {\n\t// TODO: add\n\treturn 0\n}\n",
    ),
    "javascript": ("x.js", "// add(1, 2) == 3\nfunction add(a, b) {\n  // TODO: add\n}\n"),
    "typescript": (
        "x.ts",
        "// add(1, 2) == 3\nexport function add(a: number, b: number): number {\n  // TODO: add\n  return 0;\n}\n",
    ),
    "tsx": ("x.tsx", "// add(1, 2) == 3\nconst add = (a: number, b: number) => {\n  /* TODO: add */\n};\n"),
}


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_language_gives_json_tasks(tmp_path: Path, language: str):
    """Each supported language yields the `tasks --json` record with the function and its example."""
    name, text = LANGUAGE_SAMPLES[language]
    path = tmp_path / name
    path.write_text(text)
    detected, tasks = file_tasks(path)
    assert detected == language
    records = [t.to_json() for t in tasks]
    assert records == [
        {
            "line": text.split("\n").index(next(line for line in text.split("\n") if "TODO" in line)) + 1,
            "kind": "todo",
            "text": "add",
            "function": "add",
            "style": "function",
            "examples": [{"input": "add(1, 2)", "output": "3"}],
        }
    ]
    json.dumps(records)


@pytest.mark.parametrize(
    ("language", "text", "function"),
    [
        (
            "java",
            "import java.util.*;\npublic class Main {\n  public static void main(String[] a) {\n    // TODO: read\n  }\n}\n",
            "main",
        ),
        ("rust", "fn main() {\n    // TODO: read\n}\n", "main"),
        ("go", "package main\n\nfunc main() {\n\t// TODO: read\n}\n", "main"),
        ("javascript", "const data = require('fs').readFileSync(0, 'utf8');\n// TODO: read\n", None),
    ],
)
def test_main_of_other_languages_is_stdin(language: str, text: str, function: str | None):
    """A marker in main (or at module level of a JS program reading stdin) is a stdin task."""
    (task,) = extract_tasks(text, language)
    assert (task.style, task.function) == ("stdin", function)


def test_language_detection_and_grammars():
    """Languages come from the LSP languageId first, else the extension; every grammar loads."""
    assert language_for("a.cc") == "cpp"
    assert language_for("a.txt", "python") == "python"
    assert language_for("a.TSX") == "tsx"
    assert language_for("a.txt") is None
    for language in SUPPORTED:
        assert grammar(language) is not None
        assert parser(language).parse(b"").root_node is not None
    with pytest.raises(ValueError, match="supported:"):
        grammar("cobol")


FUZZ_PIECES = [
    "def f(a):\n",
    "    ",
    "# TODO: x\n",
    "// FIXME y\n",
    "/* TODO */",
    "int main() {",
    "}",
    "{",
    "(",
    ")",
    "\n",
    '"""',
    "'",
    '"',
    ">>> f(1)\n",
    "Input: a = [1]\nOutput: 2\n",
    "Sample Input\n1\nSample Output\n1\n",
    "assert f(1) == 1\n",
    "class A:\n",
    "fn g() {",
    "func h() {",
    "function k() {",
    "😀",
    "\r\n",
    "#if 0\n",
    "#endif\n",
    "for x in a:\n",
    "while (n) {",
    "return f(n - 1) + f(n - 2);",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    language=st.sampled_from(SUPPORTED),
    text=st.lists(st.sampled_from(FUZZ_PIECES), max_size=25).map("".join),
    line=st.integers(-1, 30),
    column=st.integers(-1, 40),
)
def test_never_raises_on_arbitrary_text(language: str, text: str, line: int, column: int):
    """Task extraction and hover accept any text and any position without raising."""
    for task in extract_tasks(text, language):
        assert task.kind in ("todo", "fixme", "xxx") and task.style in ("function", "stdin")
        json.dumps(task.to_json())
    function_at(text, language, Position(line, column))
