"""What the three assignments' corpora share: an entry of a manifest (tests/corpora/*/manifest.py: a
student-style file and the verdict each of its sections must get) and the grading of every file once."""
from dataclasses import dataclass, field

import pytest

VERDICTS = ('passed', 'wrong answer', 'runtime error', 'policy violation')


@dataclass(frozen=True)
class Entry:
    file: str
    what: str
    expected: dict = field(default_factory=dict)  # {section: verdict}; sections not named: 'passed'
    phrases: dict = field(default_factory=dict)   # {section: (text, ...)}: each must be in the verdict's text
    # sections that break a rule AND compute a wrong value (ground truth: both hold; the report must show the
    # broken rule, and the wrong value too where the code can run: a forbidden import stops it in the sandbox)
    wrong_values: tuple = ()
    passes_mnist: bool = False  # the first assignment: its train_mnist_model passes the MNIST gate

    def verdict(self, section):
        return self.expected.get(section, 'passed')

    def values_wrong(self, section):
        """Ground truth: does this section compute a wrong value (or raise) on some valid input?"""
        return self.verdict(section) in ('wrong answer', 'runtime error') or section in self.wrong_values


def section_text(verdict):
    """Everything the report says about one section: the reason, every finding, the warnings."""
    return ' '.join([verdict.reason] + [str(finding) for finding in getattr(verdict, 'findings', [])]
                    + [str(warning) for warning in verdict.warnings])


def verdict_problem(entry, verdict):
    """What is wrong with the grader's ``verdict`` of a section of ``entry``, or None: the manifest's
    verdict, and each of its phrases in the section's text."""
    want, text = entry.verdict(verdict.name), section_text(verdict)
    if verdict.verdict != want:
        return f"{verdict.name}: expected {want}, got {verdict.verdict}: {text[:800]}"
    missing = [phrase for phrase in entry.phrases.get(verdict.name, ()) if phrase not in text]
    return f"{verdict.name}: {want} as expected, but {missing} not in: {text[:800]}" if missing else None


def graded_once(grader, corpus, sections):
    """report(entry) -> {section: SectionVerdict}: each file of ``corpus`` graded once, on ``sections``."""
    cache = {}

    def report(entry):
        if entry.file not in cache:
            verdicts = grader.grade(corpus / entry.file, sections).sections
            assert [verdict.name for verdict in verdicts] == sections, entry.file
            cache[entry.file] = {verdict.name: verdict for verdict in verdicts}
        return cache[entry.file]
    return report


def grader_cases(entries, sections, gaps):
    """pytest params (entry, section) of every file and section; a known gap of the grader is a strict xfail."""
    return [pytest.param(entry, name, id=f"{entry.file}-{name}",
                         marks=[pytest.mark.xfail(strict=True, reason=gaps[entry.file, name])]
                         if (entry.file, name) in gaps else [])
            for entry in entries for name in sections]
