"""The similarity report finds disguised copies among independent solutions, ignores the template,
checks against known solutions, and writes a side-by-side HTML page."""
import assignments
import difflib
import re
import subprocess
import sys

from instructor.similarity import rank_pairs
from tests.conftest import KIT_ROOT
from tests.support.similarity_planted import COURSE_TEMPLATE, build, measure

def test_disguises_really_change_the_text(tmp_path):
    build(tmp_path)
    base = (tmp_path / 'anna.py').read_text().splitlines()
    # share of identical lines in order (measured: 0.73, 0.78, 0.49, 0.27)
    for disguise, most in (('renamed', 0.8), ('reformatted', 0.85), ('reordered', 0.6), ('disguised', 0.35)):
        copy = (tmp_path / f'anna_{disguise}.py').read_text().splitlines()
        same = difflib.SequenceMatcher(None, base, copy, autojunk=False).ratio()
        assert same < most, (disguise, same)
    reordered = (tmp_path / 'anna_reordered.py').read_text()
    assert reordered != (tmp_path / 'anna.py').read_text()
    assert sorted(reordered.splitlines()) == sorted((tmp_path / 'anna.py').read_text().splitlines())


def test_planted_copies_rank_above_every_independent_pair(tmp_path):
    figures = measure(tmp_path)
    assert figures['true_pairs'] == 50 and figures['files'] == 22
    assert figures['precision'] == 1.0 and figures['recall'] == 1.0, figures
    assert figures['lowest_true'] > figures['highest_false'] + 0.2, figures
    assert figures['partial_rank'] <= 50, "one copied section must rank among the copies"


def test_one_copied_section_is_found_by_the_definition_score(tmp_path):
    from instructor.similarity import read_sources, template_sources
    build(tmp_path)
    sources = read_sources(tmp_path)
    pair = next(p for p in rank_pairs(sources, templates=template_sources([COURSE_TEMPLATE]))
                if {p.left, p.right} == {'anna_with_boris_conv2d.py', 'boris.py'})
    assert pair.file_score < 0.6, "the file as a whole is mostly anna's"
    assert pair.definition_score > 0.9 and 'Conv2D.' in pair.definition, pair


def test_template_code_does_not_count():
    from grader.regions import make_template
    template = make_template((KIT_ROOT / 'solution.py').read_text(), assignments.get('numpy-nn').by_name)
    # two students who handed in the bare template share nothing of their own
    pairs = rank_pairs({'a.py': template, 'b.py': template + '\n# my notes\n'})
    assert pairs[0].score == 0.0
    # without the template removed the same pair would be identical
    assert rank_pairs({'a.py': template, 'b.py': template}, templates=[])[0].score > 0.99


def test_known_solutions_and_the_html_report(tmp_path):
    planted, known = tmp_path / 'planted', tmp_path / 'known'
    origin = build(planted)
    origin['known: boris_2024.py'] = origin.pop('boris.py')
    known.mkdir()
    (planted / 'boris.py').rename(known / 'boris_2024.py')  # last year's, found in a public repository
    for path in planted.glob('reference*.py'):
        path.unlink()
    html = tmp_path / 'report.html'
    run = subprocess.run([sys.executable, str(KIT_ROOT / 'run.py'), 'similarity', str(planted), '--known', str(known),
                          '--html', str(html), '--top', '40', '--template', str(COURSE_TEMPLATE)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    page = html.read_text()
    shown = re.findall(r'<h2 id="pair\d+">\d+\. (\S+) &harr; (.+?): (\d+)%</h2>', page)
    # the 40 true pairs: 15 among anna's 5 and the partial copy, 10 among denis's, 6 among boris's copies,
    # 4 between those and the partial copy, 5 with the known solution
    assert len(shown) == 40
    against_known = [(left, right) for left, right, _ in shown if right.startswith('known: ')]
    assert sorted(against_known) == sorted([(f'boris_{d}.py', 'known: boris_2024.py') for d in
                                            ('disguised', 'renamed', 'reformatted', 'reordered')]
                                           + [('anna_with_boris_conv2d.py', 'known: boris_2024.py')])
    assert all(origin[left] & origin[right] for left, right, _ in shown), shown
    assert page.count('<pre>') == 80 and page.count('<mark>') > 80
    assert '&lt;' in page or '&gt;' in page or '&#34;' in page or '&#39;' in page  # sources are escaped
