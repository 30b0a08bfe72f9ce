"""Edits: the implementation replaces the function, keeps indentation, and carries the note."""

from codegen.edits import apply_edits, implementation_edit, note_line
from codegen.tasks import extract_tasks
from devtools.samples import TWO_SUM_SOURCE

METHOD_SOURCE = '''\
class Solution:
    def add(self, a, b):
        """>>> Solution().add(1, 2)
        3
        """
        # TODO
        pass

    def other(self):
        return 1
'''


def test_function_is_replaced_with_code_and_note():
    task = extract_tasks(TWO_SUM_SOURCE, "python")[0]
    code = "def two_sum(nums, target):\n    return [0, 1]\n"
    edit = implementation_edit(task, code, note_line("AC", 2, 2, "O(1) time"))
    result = apply_edits(TWO_SUM_SOURCE, [edit])
    assert result.startswith("# VibeThinker (AC: passed 2/2 examples); complexity O(1) time\ndef two_sum")
    assert "TODO" not in result and "    pass" not in result


def test_method_keeps_its_indentation_and_neighbours():
    task = extract_tasks(METHOD_SOURCE, "python")[0]
    assert task.class_name == "Solution"
    edit = implementation_edit(task, "def add(self, a, b):\n    return a + b\n", "note")
    result = apply_edits(METHOD_SOURCE, [edit])
    assert '    # note\n    def add(self, a, b):\n        """>>> Solution().add(1, 2)\n        3\n        """\n        return a + b\n' in result
    assert "    def other(self):\n        return 1\n" in result
    compile(result, "x.py", "exec")


def test_docstring_with_examples_survives_an_implementation_without_one():
    task = extract_tasks(TWO_SUM_SOURCE, "python")[0]
    code = "def two_sum(nums, target):\n    seen = {}\n    return [0, 1]\n"
    result = apply_edits(TWO_SUM_SOURCE, [implementation_edit(task, code, "note")])
    again = extract_tasks(result.replace("# note", "# TODO: again"), "python")
    assert '    """Indices of the two numbers adding up to target.\n' in result
    assert "    >>> two_sum([3, 2, 4], 6)\n    [1, 2]\n    \"\"\"\n    seen = {}" in result
    assert len(again[0].examples) == 2
    compile(result, "x.py", "exec")


def test_a_docstring_the_model_kept_is_not_doubled():
    task = extract_tasks(TWO_SUM_SOURCE, "python")[0]
    code = 'def two_sum(nums, target):\n    """Mine."""\n    return [0, 1]\n'
    result = apply_edits(TWO_SUM_SOURCE, [implementation_edit(task, code, "note")])
    assert result.count('"""') == 2
