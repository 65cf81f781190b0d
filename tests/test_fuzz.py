"""Every fuzz target, briefly: over its seed corpus and on arbitrary bytes (hypothesis).

A target lets only pyinterlink's own errors through; anything else raised here is a bug in a
parser (the contract is "a value or our typed error, never another exception").
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz import Target, all_targets, seeds

TARGETS = all_targets()


def test_there_are_targets_for_the_parsers_of_outside_input() -> None:
    assert {"pod_json", "quantity", "flags", "site_config"} <= set(TARGETS)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_corpus_passes(name: str) -> None:
    for seed in seeds(name):
        TARGETS[name](seed)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_arbitrary_bytes_pass(name: str) -> None:
    target: Target = TARGETS[name]
    corpus = seeds(name)
    mutated = st.sampled_from(corpus).flatmap(_mutations) if corpus else st.nothing()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=512) | mutated)
    def run(data: bytes) -> None:
        target(data)

    run()


def _mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """Seeds with a slice replaced by arbitrary bytes: near-valid input reaches deeper."""
    return st.tuples(st.integers(0, len(seed)), st.integers(0, 16), st.binary(max_size=16)).map(
        lambda cut: seed[: cut[0]] + cut[2] + seed[cut[0] + cut[1] :]
    )
