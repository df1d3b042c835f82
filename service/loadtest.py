"""Load benchmark of the checker (a script, not a timed test):

    .venv/bin/python -m service.loadtest --uploads 200 --clients 50 [--sections relu] [--scheduler local]

Starts ``./run.py serve`` on 127.0.0.1 with a temporary SQLite database and a roster of one
student per upload, sends the uploads from ``--clients`` concurrent clients (bounded in count and
time), then waits for every unit report. Prints upload latency p50/p95, the time until the last
unit report, and checks that no upload was lost and each was graded exactly once.
"""
import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def send_uploads(url, tokens, clients, source, timeout):
    import httpx
    gate = asyncio.Semaphore(clients)
    latencies, statuses = [], []
    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=clients)) as client:
        async def one(token):
            async with gate:
                started = time.perf_counter()
                response = await client.post(f'{url}/api/submissions', headers={'Authorization': f'Bearer {token}'},
                                             files={'file': ('solution.py', source)})
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status_code)
        await asyncio.gather(*(one(token) for token in tokens))
    return latencies, statuses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--uploads', type=int, default=200)
    parser.add_argument('--clients', type=int, default=50)
    parser.add_argument('--sections', nargs='+', default=['relu'])
    parser.add_argument('--scheduler', default='local')
    parser.add_argument('--workers', type=int, default=None)
    parser.add_argument('--db', help="database URL (default: a temporary SQLite file)")
    parser.add_argument('--grading-timeout', type=float, default=1800)
    parser.add_argument('--json', help="write the figures here")
    args = parser.parse_args(argv)

    from sqlalchemy import func, select

    from service.db import make_engine, session_factory
    from service.models import Job, Result, Submission
    from service.loadsupport import Server, import_roster

    folder = Path(tempfile.mkdtemp(prefix='nn-load-'))
    db_url = args.db or f"sqlite:///{folder / 'checker.sqlite3'}"
    tokens = import_roster(db_url, folder, args.uploads, 'load')
    options = ['--scheduler', args.scheduler, '--sections', *args.sections, '--rate', '0', '--per-hour', '0']
    if args.workers:
        options += ['--workers', str(args.workers)]
    server = Server(db_url, folder, *options)
    sessions = session_factory(make_engine(db_url))
    try:
        started = time.monotonic()
        latencies, statuses = asyncio.run(send_uploads(server.url, list(tokens.values()), args.clients,
                                                       (KIT_ROOT / 'solution.py').read_bytes(), 60))
        uploaded = time.monotonic()
        last_report = None
        while time.monotonic() - started < args.grading_timeout:
            with sessions() as db:
                if not db.scalar(select(func.count()).where(Job.kind == 'units', Job.state != 'done')):
                    last_report = db.scalar(select(func.max(Job.finished_at)).where(Job.kind == 'units'))
                    break
            time.sleep(0.5)
        with sessions() as db:
            stored = db.scalar(select(func.count()).select_from(Submission))
            results = db.scalar(select(func.count()).select_from(Result))
            distinct = db.scalar(select(func.count()).select_from(
                select(Result.submission_id, Result.section).distinct().subquery()))
            attempts = db.scalars(select(Job.attempts)).all()
            first_upload = db.scalar(select(func.min(Submission.created_at)))
    finally:
        server.stop()
    accepted = statuses.count(201)
    figures = {
        'uploads': args.uploads, 'clients': args.clients, 'sections': args.sections, 'scheduler': args.scheduler,
        'accepted': accepted, 'stored': stored, 'lost': accepted - stored,
        'results': results, 'expected_results': stored * len(args.sections), 'recorded_twice': results - distinct,
        'jobs_run_more_than_once': sum(a > 1 for a in attempts),
        'upload_p50_ms': round(1000 * statistics.median(latencies), 1),
        'upload_p95_ms': round(1000 * percentile(latencies, 0.95), 1),
        'upload_max_ms': round(1000 * max(latencies), 1),
        'all_uploads_seconds': round(uploaded - started, 2),
        'last_unit_report_seconds': round((last_report - first_upload).total_seconds(), 1) if last_report else None,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    ok = (accepted == args.uploads and figures['lost'] == 0 and results == figures['expected_results']
          and figures['recorded_twice'] == 0 and last_report is not None)
    print('OK: none lost, each graded once' if ok else 'FAILED', file=sys.stderr)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
