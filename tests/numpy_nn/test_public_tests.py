"""The reference passes every public case; the template fails every one with its NotImplementedError."""
import pytest

from public_tests.framework import cases_for, run_case, run_section
from public_tests.sections import BY_NAME, UNIT_SECTIONS

ALL_CASES = [(section.name, case) for section in UNIT_SECTIONS for case in cases_for(section.name)]


def test_every_unit_section_has_cases():
    assert all(cases_for(section.name) for section in UNIT_SECTIONS)


@pytest.mark.parametrize('section, case', ALL_CASES, ids=[case.__name__ for _, case in ALL_CASES])
def test_reference_passes(reference, section, case):
    result = run_case(case, reference)
    assert result.passed, result.message


@pytest.mark.parametrize('section', [section.name for section in UNIT_SECTIONS])
def test_template_fails_every_section_with_its_own_message(template, section):
    """Cases that only touch kit code (shapes after build) may pass; the section as a whole may not."""
    report = run_section(section, template)
    assert not report.passed
    for result in report.results:
        if not result.passed:
            assert result.message.startswith('NotImplementedError'), result.message
            assert f"{BY_NAME[section].title} ({section})" in result.message, result.message
