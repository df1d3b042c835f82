"""The second assignment's benchmark (``./run.py benchmark autoencoder``): grading its reference's unit
sections in the sandbox (instructor/benchmarks.py's ``grading``), and its bottleneck gate in-process."""
from assignments.autoencoder import ASSIGNMENT
from instructor.benchmarks import grading_figures


def bench_autoencoder(args):
    grading = grading_figures(ASSIGNMENT)
    reference = ASSIGNMENT.load(ASSIGNMENT.reference_path, 'benchmark_autoencoder_reference')
    gate = ASSIGNMENT.module('gates').run_gate('bottleneck', reference, args.data_dir, args.allow_unverified)
    return {**grading, 'gate_loss': gate.loss, 'gate_seconds': gate.seconds, 'gate_max_loss': gate.gate.max_loss,
            'gate_max_seconds': gate.gate.max_seconds, 'meets_target': grading['meets_target'] and gate.passed,
            'summary': f"{grading['summary']}; gate: {gate.describe()}"}


BENCHMARKS = {'autoencoder': bench_autoencoder}
