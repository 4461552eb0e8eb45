"""The one typed KEY=VALUE parser and the flags generated from dataclasses."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from pstmo.errors import ConfigError
from pstmo.models import LiftFormerConfig, STMOConfig
from pstmo.options import add_dataclass_arguments, field_types, option, parse_assignments, parse_value


@pytest.mark.parametrize("text", ["False", "false", "no", "0", "off"])
def test_false_is_false_not_a_truthy_string(text):
    assert parse_value(text, bool) is False


def test_typed_values():
    assert parse_value("True", bool) is True
    assert parse_value("none", int | None) is None
    assert parse_value("7", int | None) == 7
    assert parse_value("sem,tem", tuple[str, ...]) == ("sem", "tem")
    assert parse_value("(3, 3, 9)", tuple[int, ...] | None) == (3, 3, 9)
    assert parse_value("2e-3", float) == 0.002
    for text, tp, match in (("abc", int, "expected an integer"), ("maybe", bool, "true or false"),
                            ("inf", float, "finite"), ("none", int, "expected an integer")):  # fmt: skip
        with pytest.raises(ConfigError, match=match):
            parse_value(text, tp, "k")


def test_untyped_values_are_literals_with_json_words():
    assert parse_value("false") is False and parse_value("None") is None and parse_value("null") is None
    assert parse_value("[1, 3]") == [1, 3] and parse_value("0.9") == 0.9 and parse_value("mlp") == "mlp"


def test_assignments_against_a_model_config():
    types = field_types(LiftFormerConfig)
    assert parse_assignments(["weight_sharing=False", "blocks=2"], types) == {
        "weight_sharing": False,
        "blocks": 2,
    }
    assert parse_assignments(["strides=none"], field_types(STMOConfig)) == {"strides": None}
    with pytest.raises(ConfigError, match="--set bogus: not an option here; choose from .*channel"):
        parse_assignments(["bogus=1"], field_types(STMOConfig))
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_assignments(["channel"], field_types(STMOConfig))


def test_flags_generated_from_a_dataclass():
    @dataclass
    class Cfg:
        epochs: int = option(3, "how many")
        flip: bool = option(True, "flip it")
        mode: str = option("a", "the mode", ("a", "b"))
        cap: int | None = option(None, "a cap")

    p = argparse.ArgumentParser()
    dests = add_dataclass_arguments(p, Cfg)
    assert dests == ["epochs", "flip", "mode", "cap"]
    ns = p.parse_args(["--epochs", "5", "--no-flip", "--cap", "none"])
    assert (ns.epochs, ns.flip, ns.mode, ns.cap) == (5, False, None, None)
    with pytest.raises(SystemExit):
        p.parse_args(["--mode", "c"])
    with pytest.raises(SystemExit):
        p.parse_args(["--epochs", "x"])
