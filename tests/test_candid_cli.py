"""`subnet candid ...` through the real entry point, as a user would run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from subnet.cli import main

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "candid"

GREETER = """
type Profile = record { name : text; age : opt nat8 };
service : {
  greet : (text) -> (text) query;
  profile : (nat) -> (opt Profile);
}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["candid", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_encode_with_types(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "encode", '("Sam", 42)', "--types", "(text, nat8)")
    assert code == 0
    assert out.strip() == "4449444c0002717b0353616d2a"


def test_encode_untyped_numbers_are_int(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "encode", "(42)")
    assert (code, out.strip()) == (0, "4449444c00017c2a")


def test_encode_and_decode_with_did(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    did = tmp_path / "greeter.did"
    did.write_text(GREETER)
    code, out, _ = run(capsys, "encode", '("Sam")', "--did", str(did), "--method", "greet")
    assert code == 0
    blob = out.strip()
    code, out, _ = run(capsys, "decode", blob, "--did", str(did), "--method", "greet", "--args")
    assert (code, out.strip()) == (0, '("Sam")')
    reply = run(
        capsys,
        "encode",
        '(opt record { name = "Sam"; age = opt 7 })',
        "-d",
        str(did),
        "-m",
        "profile",
        "--results",
    )[1].strip()
    code, out, _ = run(capsys, "decode", reply, "-d", str(did), "-m", "profile")
    assert code == 0
    assert out.strip() == '(opt record { age = opt 7; name = "Sam" })'  # fields in id order


def test_decode_typed_and_untyped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "4449444c0001710b48656c6c6f2c2053616d21", "--types", "(text)")
    assert (code, out.strip()) == (0, '("Hello, Sam!")')
    code, out, _ = run(capsys, "decode", "4449444c00017d2a")
    assert (code, out.strip()) == (0, "(42 : nat)")
    code, out, _ = run(capsys, "decode", "0x4449 444c 0001 7d2a")
    assert (code, out.strip()) == (0, "(42 : nat)")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["decode", "4449444c00zz"], "not a hex message"),
        (["decode", "4449444c0001"], "argument count of 1 cannot fit"),
        (["decode", "4449444c00017d"], "end of the input"),
        (["decode", "4449444c00017e02"], "a bool is 00 or 01"),
        (["decode", "4449444c00017d2a", "--types", "(text)"], "cannot be read as text"),
        (["encode", "(42"], "line 1, column 4"),
        (["encode", "(300)", "--types", "(nat8)"], "out of the range of nat8"),
        (["encode", "(1)", "--types", "(nat"], "expected"),
        (["encode", "(1)", "--did", "missing.did", "--method", "m"], "cannot read missing.did"),
        (["encode", "(1)", "--did", "x.did"], "go together"),
        (["encode", "(1)", "--types", "(nat)", "--method", "m"], "not both"),
    ],
)
def test_bad_input_is_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.startswith("Error: ") and message in err
    assert "Traceback" not in err + out


def test_unknown_method_lists_the_methods(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    did = tmp_path / "greeter.did"
    did.write_text(GREETER)
    code, _, err = run(capsys, "encode", "()", "--did", str(did), "--method", "nope")
    assert code == 1
    assert "greet, profile" in err


def test_check_compatible(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old = tmp_path / "old.did"
    new = tmp_path / "new.did"
    old.write_text("service : { greet : (text) -> (text) }")
    new.write_text("service : { greet : (text, opt nat) -> (text, opt text); hello : () -> () }")
    code, out, _ = run(capsys, "check", str(new), str(old))
    assert code == 0
    assert "is compatible" in out


def test_check_incompatible_lists_every_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old = tmp_path / "old.did"
    new = tmp_path / "new.did"
    old.write_text(
        "type R = record { a : nat; b : text }; service : { f : () -> (R); g : (nat) -> (); h : () -> () query }"
    )
    new.write_text("type R = record { a : text }; service : { f : () -> (R); h : () -> () }")
    code, out, _ = run(capsys, "check", str(new), str(old))
    assert code == 1
    assert "not compatible" in out
    for expected in ('method "f"', "record field a", "field b", 'method "g"', "annotation changed"):
        assert expected in out
    code, out, _ = run(capsys, "check", str(new), str(old), "--output", "json")
    assert code == 1 and '"compatible": false' in out


def test_check_bad_did_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.did"
    bad.write_text("service : { f : (Missing) -> () }")
    code, _, err = run(capsys, "check", str(bad), str(bad))
    assert code == 1 and "Missing is not defined" in err and "line 1" in err


def test_conformance_files(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in CONFORMANCE.glob("*.test.did"))
    code, out, _ = run(capsys, "test", *files)
    assert code == 0
    last = out.strip().splitlines()[-1]
    passed, failed = last.split(", ")
    assert failed == "0 failed" and int(passed.split()[0]) > 400


def test_failing_test_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    suite = tmp_path / "mine.test.did"
    suite.write_text(
        'assert blob "DIDL\\00\\01\\7d\\2a" == "(42)" : (nat) "right";\n'
        'assert blob "DIDL\\00\\01\\7d\\2a" == "(43)" : (nat) "wrong";\n'
        'assert "(1)" !: (nat) "also wrong";\n'
    )
    code, out, _ = run(capsys, "test", str(suite))
    assert code == 1
    assert "FAIL mine.test.did:2 wrong" in out
    assert out.strip().splitlines()[-1] == "1 passed, 2 failed"


def test_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "hash", "foo")[1].strip() == "5097222"
