"""The deadline load test's own code path, small: a handful of students uploading a few times each
(a hostile file and a broken one of every quick kind among them) to a real server grading on two
workers, local and on a Dask cluster the command starts. Nothing may be lost or graded twice.

No timing is asserted here: the figures come from the benchmark command
(``.venv/bin/python -m service.loadtest --deadline``, ``./run.py benchmark deadline``), never from a test.
"""
import random

import pytest

from service.loadtest import BROKEN, HOSTILE, deadline_options, deadline_run, plan_deadline

pytestmark = [pytest.mark.cluster, pytest.mark.service]  # markers: pyproject.toml


def small_replay():
    # about 20 uploads in 8 seconds of "last hour"; the endless loop is left out (it holds a worker 40 s)
    return deadline_options(students=7, rush_seconds=8.0, early_seconds=1.0, poll_seconds=0.3, hostile_each=1,
                            hostile_kinds=['memory bomb', 'reads /proc'], broken_each=1, workers=2,
                            grading_timeout=120.0, seed=7)


@pytest.mark.parametrize('executor', ['local', 'dask'])
def test_a_small_deadline_loses_nothing_and_grades_each_upload_once(executor):
    options = small_replay()
    figures = deadline_run(executor, options, log=lambda line: None)
    context = f"{figures} (logs in {figures['folder']})"
    assert figures['ok'], context
    assert figures['lost'] == [] and figures['unconfirmed'] == [] and figures['not_final'] == [], context
    assert figures['wrong_result_count'] == [] and figures['graded_more_than_once'] == [], context
    # every broken kind refused (422) at upload, never stored; every hostile one accepted and graded once
    assert figures['refused_broken'] == len(BROKEN) and figures['broken_but_stored'] == 0, context
    assert sorted(figures['hostile_verdicts']) == ['memory bomb', 'reads /proc'], context
    assert figures['hostile_verdicts']['memory bomb'] == ['memory limit'], context
    assert 'passed' not in figures['hostile_verdicts']['reads /proc'][0], context
    assert figures['accepted'] >= 15 and figures['statuses'].get('201') == figures['accepted'], context


def test_the_plan_puts_most_first_uploads_in_the_last_hour_and_every_special_file_in():
    tokens = [f't{index}' for index in range(300)]
    students = plan_deadline(tokens, random.Random(1), rush_seconds=240.0, early_seconds=60.0)
    kinds = [kind for student in students for kind in student.kinds]
    assert 780 <= len(kinds) - 9 <= 930  # 2.85 uploads a student on average, and the 9 broken tries
    assert sorted(kind for kind in kinds if kind != 'solution') == sorted(
        [kind for kind in HOSTILE for _ in range(2)] + [kind for kind in BROKEN for _ in range(3)])
    in_rush = [student.first_at >= 60.0 for student in students]
    assert 0.68 <= sum(in_rush) / len(students) <= 0.82
    late_half = [student.first_at >= 60.0 + 120.0 for student in students]
    assert sum(late_half) > 2 * (sum(in_rush) - sum(late_half))  # denser towards the deadline
