"""TOTP codes and recovery codes, without a database (shared/commands/second_factor.py)."""

from __future__ import annotations

import pyotp

from shared.commands.second_factor import (
    code_step,
    new_recovery_codes,
    new_secret,
    recovery_digest,
)

NOW = 1_800_000_015.0  # 15 s into step 60,000,000
STEP = 60_000_000


def test_a_code_names_its_step_with_one_step_of_drift_either_way() -> None:
    secret = new_secret()
    totp = pyotp.TOTP(secret)
    assert code_step(secret, totp.at(NOW), NOW) == STEP
    assert code_step(secret, totp.at(NOW - 30), NOW) == STEP - 1
    assert code_step(secret, totp.at(NOW + 30), NOW) == STEP + 1
    assert code_step(secret, totp.at(NOW + 30), NOW + 60) == STEP + 1
    assert code_step(secret, totp.at(NOW - 60), NOW) is None
    assert code_step(secret, totp.at(NOW + 60), NOW) is None


def test_anything_but_six_digits_is_no_code() -> None:
    secret = new_secret()
    code = pyotp.TOTP(secret).at(NOW)
    assert code_step(secret, code[:3] + " " + code[3:], NOW) == STEP  # as apps show it
    # Digits of other scripts are digits to str.isdigit(), never a code.
    fullwidth, arabic_indic = "\uff11" * 6, "\u0660" * 6
    for typed in ("", code[:5], code + "0", "abcdef", fullwidth, arabic_indic):
        assert code_step(secret, typed, NOW) is None, typed


def test_recovery_codes_are_ten_distinct_and_typed_loosely() -> None:
    codes = new_recovery_codes()
    assert len(set(codes)) == 10
    assert all(len(c) == 19 and c.count("-") == 3 for c in codes)
    assert recovery_digest(codes[0]) == recovery_digest(codes[0].upper().replace("-", " "))
    assert recovery_digest(codes[0]) != recovery_digest(codes[1])
    assert len(recovery_digest(codes[0])) == 64
