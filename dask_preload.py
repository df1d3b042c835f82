"""Makes the kit importable in a ``dask worker``: start every grading worker from the kit's folder with

    dask worker tcp://SCHEDULER:8786 --nworkers 2 --nthreads 1 --preload dask_preload.py

(or give this file's full path from anywhere).  ``dask worker`` does not put its working folder on
``sys.path``, and Dask runs a copy of this file from the worker's scratch folder; as each worker
starts, ``dask_setup`` puts the folder of the file named to ``--preload`` (the kit's) first on
``sys.path`` and loads the grader, so a worker whose kit is missing or broken says so in its log
(and ``./run.py grade`` refuses the cluster) instead of failing on the first submission.  The
scheduler needs no kit.
"""
import os
import sys


def kit_folder(worker):
    """The folder of the dask_preload.py named to --preload (a relative name: from the worker's folder)."""
    for preload in getattr(worker, 'preloads', ()):
        name = getattr(preload, 'name', '')
        if os.path.basename(name) == os.path.basename(__file__) and os.path.isfile(name):
            return os.path.dirname(os.path.abspath(name))
    return os.getcwd()


def dask_setup(worker):
    """Called by Dask as the worker starts."""
    folder = kit_folder(worker)
    if not os.path.isfile(os.path.join(folder, 'grader', 'executor.py')):
        raise RuntimeError(f"{folder} does not hold the grading kit: give --preload the dask_preload.py of the kit")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    from grader.executor import worker_identity
    worker_identity()  # hashes the kit's files now: what ./run.py grade and every job compare
