"""The settings tree: camelCase on the wire, validation with clear messages, last good values kept."""

from lsp_server.settings import Settings, flatten_schema, parse_settings


def test_camel_case_options_are_read():
    settings, errors = parse_settings(
        {
            "model": {"backend": "openai", "baseUrl": "http://127.0.0.1:9/v1", "name": "m"},
            "generation": {"topP": 0.5},
        }
    )
    assert errors == []
    assert settings.model.backend == "openai"
    assert settings.model.base_url == "http://127.0.0.1:9/v1"
    assert settings.generation.top_p == 0.5
    assert settings.model_config().base_url == "http://127.0.0.1:9/v1"


def test_invalid_values_keep_the_last_good_ones():
    good, _ = parse_settings({"generation": {"candidates": 8}})
    settings, errors = parse_settings(
        {"generation": {"candidates": 0, "temperature": "hot"}, "model": {"backend": "gguf"}, "nope": {}},
        good,
    )
    assert settings.generation.candidates == 8
    assert settings.generation.temperature == good.generation.temperature
    assert settings.model.backend == "transformers"
    assert len(errors) == 4
    assert any("generation.candidates" in e and "between 1 and 32" in e for e in errors)
    assert any("model.backend" in e and "transformers, openai" in e for e in errors)


def test_non_object_settings_are_rejected_whole():
    settings, errors = parse_settings(["not", "a", "dict"])
    assert settings == Settings()
    assert errors and "must be an object" in errors[0]


def test_integers_are_accepted_for_floats_but_bools_are_not_integers():
    settings, errors = parse_settings({"judge": {"timeLimit": 3, "memoryLimit": True}})
    assert settings.judge.time_limit == 3.0
    assert settings.judge.memory_limit == 256
    assert len(errors) == 1


def test_schema_lists_every_leaf_with_defaults():
    schema = flatten_schema()
    assert schema["model.name"]["default"] == "WeiboAI/VibeThinker-1.5B"
    assert schema["generation.maxNewTokens"]["type"] == "integer"
    assert schema["generation.thinkingBudget"]["type"] == ["integer", "null"]  # null: the model's default
    assert schema["model.backend"]["enum"] == ["transformers", "openai"]
    assert all(entry["description"] for entry in schema.values())


def test_a_problems_own_limits_win():
    from dataclasses import replace

    from codegen.tasks import extract_tasks
    from devtools.samples import TWO_SUM_SOURCE

    task = extract_tasks(TWO_SUM_SOURCE, "python")[0]
    settings, _ = parse_settings({"judge": {"timeLimit": 3, "memoryLimit": 512}})
    assert (settings.limits(task).time_s, settings.limits(task).memory_mb) == (3.0, 512)
    limited = replace(task, time_limit_ms=1500, memory_limit_mb=64)
    assert (settings.limits(limited).time_s, settings.limits(limited).memory_mb) == (1.5, 64)


def test_model_settings_reach_the_engine_configuration():
    settings, errors = parse_settings({"model": {"timeout": 30, "decoder": "generate", "compile": False}})
    config = settings.model_config()
    assert errors == []
    assert (config.timeout_s, config.decoder, config.compile) == (30.0, "generate", False)
