"""From source text to verified candidates: tasks, prompts, the model engine and reply parsing."""
