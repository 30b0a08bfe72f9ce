"""The user's own stress-test files next to a solution: a brute force and a generator.

Looked for in the solution's folder, most specific first (for a solution `a.cpp`):
- brute force: `a.brute.py`, `a.brute.cpp`, `a_brute.py`, `a_brute.cpp`, `brute.py`, `brute.cpp`,
  `brute/a.py`, `brute/a.cpp`;
- generator: `a.gen.py`, `a.gen.cpp`, `a_gen.py`, `a_gen.cpp`, `gen.py`, `gen.cpp`, `generator.py`,
  `generator.cpp`, `gen/a.py`, `gen/a.cpp`.
The Competitive Programming Helper (`.cph/`) and Competitive Companion keep no extra files of this kind, so
these names are the convention. `.cc`/`.cxx` count as C++ like `.cpp`. Pure functions over the file system.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codegen.tasks import read_source
from sandbox.stress import Program

EXTENSIONS = {".py": "python", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp"}
SUFFIXES = (".py", ".cpp", ".cc", ".cxx")


@dataclass
class UserOracles:
    """The brute force and the generator found next to a solution (None where there is none)."""

    brute: Path | None
    generator: Path | None


def find_user_oracles(solution: Path) -> UserOracles:
    """The user's brute force and generator for a solution, by the names in the module docstring."""
    solution = Path(solution)
    return UserOracles(
        brute=_first(solution, ("brute",), "brute"),
        generator=_first(solution, ("gen", "generator"), "gen"),
    )


def _first(solution: Path, plain_names: tuple[str, ...], role: str) -> Path | None:
    """The first existing file among the names for one role, never the solution itself."""
    folder, stem = solution.parent, solution.stem
    names = [f"{stem}.{role}", f"{stem}_{role}", *plain_names]
    candidates = [folder / f"{name}{suffix}" for name in names for suffix in SUFFIXES]
    candidates += [folder / role / f"{stem}{suffix}" for suffix in SUFFIXES]
    for path in candidates:
        if path.is_file() and path.resolve() != solution.resolve():
            return path
    return None


def language_of(path: Path) -> str | None:
    """The language of a source file by its extension (python or cpp), or None."""
    return EXTENSIONS.get(Path(path).suffix.lower())


def load_program(path: Path) -> Program:
    """Read a brute force, generator or solution as a Program; ValueError with one sentence when it cannot
    be read or is not Python or C++."""
    path = Path(path)
    language = language_of(path)
    if language is None:
        raise ValueError(f"{path.name} is neither Python (.py) nor C++ (.cpp); stress tests run those two.")
    code, _ = read_source(path)
    return Program(code, language, path.name)
