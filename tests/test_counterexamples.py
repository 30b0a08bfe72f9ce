"""A counterexample kept as a test lands where the task reader finds samples, never over an existing file."""

from __future__ import annotations

import json

from codegen.counterexamples import add_stdin_sample, function_sample_edit
from codegen.edits import apply_edits
from codegen.examples import sample_files
from codegen.geometry import Position
from codegen.tasks import function_at


def _samples(path):
    return [(e.input, e.output) for e in sample_files(path).examples]


def test_statement_samples_are_written_out_first_so_they_stay_samples(tmp_path):
    path = tmp_path / "sol.py"
    path.write_text("print(1)\n")
    written = add_stdin_sample(path, "3\n-1 -2 -3", "-1", [("1\n5\n", "5\n")])
    assert [p.name for p in written] == ["sol.1.in", "sol.1.out", "sol.2.in", "sol.2.out"]
    assert _samples(path) == [("1\n5\n", "5\n"), ("3\n-1 -2 -3\n", "-1\n")]


def test_a_pair_beside_the_file_gets_the_next_free_number_and_nothing_is_overwritten(tmp_path):
    path = tmp_path / "sol.cpp"
    path.write_text("int main() {}\n")
    (tmp_path / "sol.in").write_text("1\n")
    (tmp_path / "sol.out").write_text("1\n")
    (tmp_path / "sol.1.ans").write_text("taken\n")  # an output without its input still holds the number
    written = add_stdin_sample(path, "2\n", "4\n")
    assert [p.name for p in written] == ["sol.2.in", "sol.2.out"]
    assert (tmp_path / "sol.1.ans").read_text() == "taken\n"
    assert ("2\n", "4\n") in _samples(path)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_tests_folder_not_named_after_the_source_gets_plain_numbers(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("print(1)\n")
    (tmp_path / "samples").mkdir()
    for i in (1, 2):
        (tmp_path / "samples" / f"{i}.in").write_text(f"{i}\n")
        (tmp_path / "samples" / f"{i}.out").write_text(f"{i}\n")
    written = add_stdin_sample(path, "7\n", "8\n")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["samples/3.in", "samples/3.out"]
    assert _samples(path)[-1] == ("7\n", "8\n") and len(_samples(path)) == 3


def test_a_cph_problem_gets_the_test_appended(tmp_path):
    path = tmp_path / "a.cpp"
    path.write_text("int main() {}\n")
    (tmp_path / ".cph").mkdir()
    prob = tmp_path / ".cph" / ".a.cpp_0123.prob"
    data = {"srcPath": str(path), "timeLimit": 1000, "tests": [{"id": 1, "input": "1\n", "output": "1\n"}]}
    prob.write_text(json.dumps(data))
    assert add_stdin_sample(path, "2\n", "4\n") == [prob]
    stored = json.loads(prob.read_text())
    assert stored["timeLimit"] == 1000 and [t["id"] for t in stored["tests"]] == [1, 2]
    assert _samples(path) == [("1\n", "1\n"), ("2\n", "4\n")]


def test_a_function_counterexample_becomes_a_doctest_that_the_reader_finds():
    text = 'def f(x):\n    """Double.\n\n    >>> f(1)\n    2\n    """\n    return x + 1\n'
    task = function_at(text, "python", Position(0, 4))
    edit = function_sample_edit(task, "f(3)", "6", text.split("\n"))
    after = apply_edits(text, [edit])
    assert '>>> f(3)\n    6\n    """' in after
    again = function_at(after, "python", Position(0, 4))
    assert [(e.input, e.output) for e in again.examples] == [("f(1)", "2"), ("f(3)", "6")]
