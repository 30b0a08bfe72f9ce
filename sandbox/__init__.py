"""The judge: runs untrusted code under limits and isolation and gives online-judge verdicts.

Knows nothing of models or editors.
"""

from sandbox.judge import Judge
from sandbox.verdicts import Limits, Report, TestCase, TestResult, Verdict

__all__ = ["Judge", "Limits", "Report", "TestCase", "TestResult", "Verdict"]
