"""Tasks to chat messages: the competitive-programming system prompt and the user turn."""

from __future__ import annotations

from codegen.tasks import Task

SYSTEM_PROMPT = (
    "You are an expert competitive programmer. Solve the task exactly as specified, choosing an algorithm "
    "with the best time complexity the constraints need. Think step by step, then give the final answer: "
    "one complete code block with the full implementation (keep the given name and signature, include the "
    "imports it needs, no tests, no example usage), followed by one line of the form "
    "`Complexity: O(...) time, O(...) space`."
)

_FENCE = {"python": "python", "cpp": "cpp", "java": "java", "rust": "rust", "go": "go"}


def fence(language: str) -> str:
    """Return the code-fence language tag for a language."""
    return _FENCE.get(language, language)


def task_messages(
    task: Task, system_prompt: str | None = None, failure: str | None = None
) -> list[dict[str, str]]:
    """Return the chat messages asking the model to implement the task.

    `failure` describes a failing example of an earlier attempt (for *Fix to pass the examples*).
    """
    lang = fence(task.language)
    parts = []
    if task.style == "stdin":
        parts.append("Write a complete program that reads standard input and writes standard output.")
    else:
        where = f" (a method of class `{task.class_name}`)" if task.class_name else ""
        parts.append(f"Implement the function `{task.function}`{where}.")
    if task.text:
        parts.append(f"Request: {task.text}")
    if task.imports:
        parts.append("The file already has:\n```" + lang + "\n" + "\n".join(task.imports) + "\n```")
    parts.append("Current code:\n```" + lang + "\n" + task.source.rstrip() + "\n```")
    if task.examples:
        shown = "\n".join(f"- {e.input} -> {e.output}" for e in task.examples[:8])
        parts.append("It must pass these examples:\n" + shown)
    if failure:
        parts.append("The previous attempt failed:\n" + failure)
    parts.append(
        f"Answer with the complete `{task.function or 'program'}` in one ```{lang} block, then the Complexity line."
    )
    return [
        {"role": "system", "content": system_prompt or SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def optimize_messages(task: Task, system_prompt: str | None = None) -> list[dict[str, str]]:
    """Ask for the same behaviour with a better time complexity."""
    lang = fence(task.language)
    parts = [
        f"Optimize `{task.function or 'this program'}`: keep exactly the same behaviour (same name, signature and "
        "results) but use an algorithm with a better time complexity if one exists.",
        "Current code:\n```" + lang + "\n" + task.source.rstrip() + "\n```",
    ]
    if task.examples:
        parts.append(
            "It must still pass:\n" + "\n".join(f"- {e.input} -> {e.output}" for e in task.examples[:8])
        )
    parts.append(f"Answer with the complete optimized code in one ```{lang} block, then the Complexity line.")
    return [
        {"role": "system", "content": system_prompt or SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def explain_messages(task: Task) -> list[dict[str, str]]:
    """Ask for a short explanation of the approach and its complexity (hover, Explain complexity)."""
    lang = fence(task.language)
    return [
        {
            "role": "system",
            "content": "You are an expert competitive programmer who explains code briefly and precisely.",
        },
        {
            "role": "user",
            "content": "Explain in at most three sentences what approach this code uses, then give one line "
            "`Complexity: O(...) time, O(...) space` with n defined.\n\n```"
            + lang
            + "\n"
            + task.source.rstrip()
            + "\n```",
        },
    ]
