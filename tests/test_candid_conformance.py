"""The official Candid conformance suite, one test case per assertion.

The data lives beside the repository in ``shared/conformance/candid`` and is read in
place. Each assertion runs as written (binary or textual), and every value it reads is
also encoded again and decoded, since the suite itself does not cover encoding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vocab.candid.testsuite import (
    Assertion,
    describe_assertion,
    load_test_file,
    run_assertion,
)

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "candid"

# No assertion of the suite is knowingly unsupported: every one must pass.


def _assertions() -> list[Assertion]:
    if not CONFORMANCE.is_dir():
        return []
    found: list[Assertion] = []
    for path in sorted(CONFORMANCE.glob("*.test.did")):
        found.extend(load_test_file(path).assertions)
    return found


ASSERTIONS = _assertions()


def test_suite_is_present() -> None:
    assert CONFORMANCE.is_dir(), f"conformance data missing at {CONFORMANCE}"
    files = sorted(p.name for p in CONFORMANCE.glob("*.test.did"))
    assert files, "no *.test.did files"
    assert len(ASSERTIONS) > 400


@pytest.mark.parametrize("assertion", ASSERTIONS, ids=[a.name for a in ASSERTIONS])
def test_conformance(assertion: Assertion) -> None:
    outcome = run_assertion(assertion)
    assert outcome.passed, f"{describe_assertion(assertion)}\n{outcome.detail}"


def test_both_kinds_of_input_are_exercised() -> None:
    kinds = {a.left.kind for a in ASSERTIONS} | {a.right.kind for a in ASSERTIONS if a.right is not None}
    assert kinds == {"blob", "text"}
