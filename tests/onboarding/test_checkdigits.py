"""Credit codes (GB 32100-2015) and ID numbers (GB 11643-1999): valid ones accepted,
any single changed character refused."""

from hypothesis import given
from hypothesis import strategies as st

from pdtracker.onboarding.checkdigits import (
    CREDIT_CHARSET,
    clean_code,
    credit_check_char,
    id_check_char,
    is_credit_code,
    is_id_number,
)

credit_bodies = st.text(alphabet=CREDIT_CHARSET, min_size=17, max_size=17)
id_bodies = st.text(alphabet="0123456789", min_size=17, max_size=17)
ALL_CHARS = sorted(set(CREDIT_CHARSET + "0123456789XIOZSV"))


def test_known_real_codes():
    # Published examples: a credit code and the ID number of GB 11643's annex.
    assert is_credit_code("91350100M000100Y43")
    assert is_id_number("11010519491231002X")
    assert not is_id_number("110105194912310021")
    assert clean_code(" ９１３５０１００ｍ０００１００ｙ４３ ") == "91350100M000100Y43"


@given(credit_bodies)
def test_generated_credit_codes_are_accepted(body):
    assert is_credit_code(body + credit_check_char(body))


@given(credit_bodies, st.integers(0, 17), st.sampled_from(ALL_CHARS))
def test_one_changed_character_of_a_credit_code_is_refused(body, at, char):
    code = body + credit_check_char(body)
    changed = code[:at] + char + code[at + 1 :]
    if changed != code:
        assert not is_credit_code(changed)


@given(id_bodies)
def test_generated_id_numbers_are_accepted(body):
    assert is_id_number(body + id_check_char(body))


@given(id_bodies, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_one_changed_character_of_an_id_number_is_refused(body, at, char):
    number = body + id_check_char(body)
    changed = number[:at] + char + number[at + 1 :]
    if changed != number:
        assert not is_id_number(changed)


def test_wrong_lengths_and_letters_are_refused():
    assert not is_id_number("11010519491231002")
    assert not is_credit_code("91350100M000100Y4")
    assert not is_credit_code("91350100M000100I43")  # I is not in the charset
