"""The checker judges right: the reference scores, every mutant loses exactly its own section,
every hostile submission gets its verdict, and the grader carries on."""
import assignments
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from grader.course_policy import CoursePolicy
from grader.grade import Grader
from tests.conftest import NUMPY_NN_CATALOGUE as CATALOGUE
from grader.mistakes import load_mistakes
from grader.static_rules import check_submission
from grader.regions import make_template
from public_tests.sections import UNIT_SECTIONS
from tests.conftest import DATA_DIR, KIT_ROOT
from tests.support.hostile import HOSTILE, apply as apply_hostile
from tests.support.mutants import MUTANTS, apply as apply_mutant

UNIT_NAMES = [section.name for section in UNIT_SECTIONS]
REFERENCE = (KIT_ROOT / 'solution.py').read_text()


@pytest.fixture(scope='module')
def grader():
    return Grader(data_dir=DATA_DIR)


def test_catalogues_cover_every_unit_section():
    assert len(MUTANTS) >= 30 and {mutant.section for mutant in MUTANTS} == set(UNIT_NAMES)
    assert len(HOSTILE) >= 10


def test_reference_scores_every_unit_section(grader):
    report = grader.grade(KIT_ROOT / 'solution.py', UNIT_NAMES)
    assert [(v.name, v.verdict) for v in report.sections] == [(name, 'passed') for name in UNIT_NAMES]
    assert report.total == 15
    assert not [v.name for v in report.sections if v.diagnosis or v.smallest_case or v.warnings]


def test_template_scores_nothing(grader, release_dir):
    report = grader.grade(release_dir / 'solution.py', UNIT_NAMES)
    assert report.total == 0
    assert all(v.verdict == 'runtime error' and 'NotImplementedError' in v.reason for v in report.sections)


@pytest.mark.parametrize('mutant', MUTANTS, ids=[f"{m.section}: {m.mistake}" for m in MUTANTS])
def test_mutant_loses_its_own_section_only(grader, tmp_path, mutant):
    path = tmp_path / 'solution.py'
    path.write_text(apply_mutant(REFERENCE, mutant))
    report = grader.grade(path, UNIT_NAMES)
    lost = {v.name: f"{v.verdict}: {v.reason}" for v in report.sections if v.verdict != 'passed'}
    assert list(lost) == [mutant.section], lost
    assert 'policy' not in lost[mutant.section], "caught by the policy, not by the values"
    # and the report teaches: the catalogued mistake named, the failing case shrunk (tests/numpy_nn/test_feedback.py
    # checks every catalogue entry in-process; this is the real sandboxed path)
    mistake = next(m for m in load_mistakes(CATALOGUE) if (m.section, m.edits) == (mutant.section, mutant.edits))
    section = next(v for v in report.sections if v.name == mutant.section)
    assert section.diagnosis == mistake.hint and f"likely mistake: {mistake.hint}" in section.reason
    assert section.smallest_case.startswith('Input:') and 'smallest failing input:' in section.reason


def test_hostile_submissions(tmp_path):
    """All of them in one grader process (a separate one: it must survive), the reference last."""
    folder = tmp_path / 'uploads'
    folder.mkdir()
    for index, hostile in enumerate(HOSTILE):
        (folder / f"{index:02d}.py").write_text(apply_hostile(REFERENCE, hostile))
    (folder / f"{len(HOSTILE):02d}.py").write_text(REFERENCE)
    report_file = tmp_path / 'report.json'
    run = subprocess.run([sys.executable, str(KIT_ROOT / 'run.py'), 'grade', str(folder), '--sections', 'units',
                          '--json', str(report_file)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.stdout) < 100_000, "the submissions' output leaked into the grader's"
    reports = json.loads(report_file.read_text())
    assert len(reports) == len(HOSTILE) + 1
    for hostile, report in zip(HOSTILE, reports):
        verdicts = {section['name']: section for section in report['sections']}
        for name, section in verdicts.items():
            want = hostile.expected.get(name, hostile.expected.get('*', 'passed'))
            assert section['verdict'] == want, f"{hostile.name}: {name} got {section['verdict']}: {section['reason']}"
            if want != 'passed':
                assert hostile.reason in section['reason'], f"{hostile.name}: {section['reason']}"
                assert len(section['reason']) < 2000
            for text in hostile.forbidden_in_report:
                assert text not in section['reason']
    assert reports[-1]['total'] == 15, "the submission after the hostile ones was not graded normally"


def test_policy_flags_imports_and_edits_not_text():
    template = make_template(REFERENCE, assignments.get('numpy-nn').by_name)
    source = template.replace(
        'raise NotImplementedError("Flatten (flatten): Flatten.forward_impl is not implemented yet")',
        "import os\n        import copy\n        return copy.copy(inputs).reshape(len(inputs), -1)").replace(
        'self.p = p', 'self.p = 0')
    findings = check_submission(source, REFERENCE, template)
    by_section = {(f.section, f.severity) for f in findings}
    messages = ' '.join(f.message for f in findings)
    assert "import of 'os'" in messages and "'copy'" not in messages
    assert ('flatten', 'policy violation') in by_section
    assert ('dropout', 'warning') in by_section and "Dropout.__init__ differs" in messages and 'self.p = 0' in messages
    strict = check_submission(source, REFERENCE, template, policy=CoursePolicy(outside_regions='fail'))
    assert ('dropout', 'policy violation') in {(f.section, f.severity) for f in strict}
    assert not [f for f in check_submission(source, REFERENCE, template, policy=CoursePolicy(outside_regions='ignore'))
                if f.section == 'dropout']
    assert check_submission(template, REFERENCE, template) == []
    assert check_submission(REFERENCE, REFERENCE, template) == []


@pytest.mark.parametrize('line, name', [
    ("__builtins__['__import__']('sqlite3')", '__builtins__'),
    ("getattr(__builtins__, 'open')", '__builtins__'),
    ("os.sys.modules['socket']", 'sys'),
    ("().__class__.__base__.__subclasses__()", '__base__'),
    ("np.load.__globals__['os']", '__globals__'),
    ("getattr(np, '__loader__')", '__loader__'),
    ("vars(np)['__spec__']", '__spec__'),
], ids=['builtins subscript', 'getattr on builtins', 'sys by attribute', 'subclasses walk', 'a function globals',
        'getattr with a constant', 'a subscript with a constant'])
def test_policy_reports_reaching_the_interpreter_where_it_can_see_it(line, name):
    source = REFERENCE.replace("return np.maximum(inputs, 0)", f"{line}\n        return np.maximum(inputs, 0)", 1)
    findings = [f for f in check_submission(source, REFERENCE, make_template(REFERENCE, assignments.get('numpy-nn').by_name)) if f.fatal]
    assert {(f.section, f.severity) for f in findings} == {('relu', 'policy violation')}, findings
    assert any(f"`{name}` is not allowed" in f.message for f in findings)


TWO_KERNEL_LOOPS = """
    n, d, ih, iw = inputs.shape
    c, _, kh, kw = kernels.shape
    x = np.pad(inputs, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = ih - kh + 1 + 2 * padding, iw - kw + 1 + 2 * padding
    flipped = kernels[:, :, ::-1, ::-1]
    outputs = np.zeros((n, c, oh, ow), dtype=np.result_type(inputs, kernels))
    for i in range(kh):
        for j in range(kw):
            outputs += np.einsum('ndhw,cd->nchw', x[:, :, i:i + oh, j:j + ow], flipped[:, :, i, j])
    return outputs
"""
THREE_LOOPS = TWO_KERNEL_LOOPS.replace(
    "            outputs += np.einsum('ndhw,cd->nchw', x[:, :, i:i + oh, j:j + ow], flipped[:, :, i, j])",
    "            for b in range(n):\n"
    "                outputs[b] += np.einsum('dhw,cd->chw', x[b, :, i:i + oh, j:j + ow], flipped[:, :, i, j])")


@pytest.mark.parametrize('body, verdict', [(TWO_KERNEL_LOOPS, 'passed'), (THREE_LOOPS, 'policy violation')],
                         ids=['two loops over the kernel taps', 'and a third over the batch'])
def test_convolve_may_use_two_loops_but_not_three(grader, tmp_path, body, verdict):
    template = make_template(REFERENCE, assignments.get('numpy-nn').by_name)
    stub = '    raise NotImplementedError("convolve (convolve): convolve_numpy is not implemented yet")\n'
    path = tmp_path / 'solution.py'
    path.write_text(template.replace(stub, body.lstrip('\n')))
    result = grader.grade(path, ['convolve']).sections[0]
    assert result.verdict == verdict, result.reason
    if verdict != 'passed':
        assert 'more than two nested loops' in result.reason and 'batch' in result.reason


def test_loops_over_data_are_found_wherever_they_hide(grader, tmp_path):
    """A module-level helper looping over rows, a comprehension, recursion: caught by what runs;
    a comprehension over the number of dimensions is fine."""
    template = make_template(REFERENCE, assignments.get('numpy-nn').by_name)
    helper = "def _rows(x):\n    return np.stack([np.maximum(row, 0) for row in x])\n\n\n"
    source = template.replace("class ReLU(Layer):", helper + "class ReLU(Layer):").replace(
        'raise NotImplementedError("ReLU (relu): ReLU.forward_impl is not implemented yet")', 'return _rows(inputs)'
    ).replace('raise NotImplementedError("ReLU (relu): ReLU.backward_impl is not implemented yet")',
              'return grad_outputs * (self.forward_inputs >= 0)')
    source = source.replace(
        'raise NotImplementedError("Flatten (flatten): Flatten.forward_impl is not implemented yet")',
        "size = 1\n        for s in inputs.shape[1:]:\n            size *= s\n"
        "        return inputs.reshape([len(inputs)] + [size for _ in range(1)])"
    ).replace('raise NotImplementedError("Flatten (flatten): Flatten.backward_impl is not implemented yet")',
              'return grad_outputs.reshape(self.forward_inputs.shape)')
    path = tmp_path / 'solution.py'
    path.write_text(source)
    helper_line = source.splitlines().index(helper.splitlines()[1]) + 1
    sections = {v.name: v for v in grader.grade(path, ['relu', 'flatten']).sections}
    assert sections['relu'].verdict == 'policy violation' and 'loop over the data' in sections['relu'].reason
    assert sections['relu'].reason.startswith(f"line {helper_line}:"), sections['relu'].reason
    assert sections['flatten'].verdict == 'passed', sections['flatten'].reason
    warn = Grader(data_dir=DATA_DIR, policy={'loops': 'warn'}).grade(path, ['relu']).sections[0]
    assert warn.verdict == 'passed' and any('loop over the data' in w for w in warn.warnings)


def test_reports(grader, tmp_path):
    from grader.report import write_gradescope, write_json
    report = grader.grade(KIT_ROOT / 'solution.py', ['relu', 'mnist'], skip_gates=True)
    write_gradescope(report, tmp_path / 'results.json')
    gradescope = json.loads((tmp_path / 'results.json').read_text())
    assert gradescope['score'] == 1.0
    assert gradescope['tests'][0] == {'name': '2.1.1 ReLU', 'score': 1.0, 'max_score': 1.0, 'status': 'passed',
                                      'output': 'passed: 4 hidden cases', 'visibility': 'visible'}
    # a gate that did not run is no failed test: it is left out and named, with its reason, in the output
    assert len(gradescope['tests']) == 1 and 'Not graded (skipped): 2.3 MNIST: gates skipped' in gradescope['output']
    write_json([report], tmp_path / 'report.json')
    assert json.loads((tmp_path / 'report.json').read_text())['sections'][1]['verdict'] == 'skipped'


@pytest.mark.skipif(not (DATA_DIR / 'mnist').is_dir(), reason='no ../shared/data/mnist')
@pytest.mark.gate  # minutes of training: pytest -m gate, or ./run.py benchmark
def test_reference_passes_the_mnist_gate_in_the_sandbox(grader):
    report = grader.grade(KIT_ROOT / 'solution.py', ['mnist'])
    verdict = report.sections[0]
    assert verdict.verdict == 'passed', verdict.reason
    assert 'on 10,000 test images' in verdict.reason


def test_submission_cannot_overwrite_data_linked_into_its_sandbox(tmp_path):
    """Gate data is bound from the grader's one copy: writing to it would reach later submissions."""
    from grader.limits import LIMITS
    from grader.sandbox import run_child
    shared = tmp_path / 'x_test.npy'
    np.save(shared, np.arange(4.0))
    os.chmod(shared, 0o444)
    source = REFERENCE.replace("from interface import *\n", "from interface import *\n"
                               "np.save('x_test.npy', np.zeros(4))\n", 1)
    run = run_child(source.encode(), {'scenarios': [], 'fast_convolve': False}, LIMITS['import'],
                    linked_files={'x_test.npy': shared})
    assert run.status == 'violation' and 'tampering with the checker' in run.detail, run.detail
    np.testing.assert_array_equal(np.load(shared), np.arange(4.0))
