"""Run one hidden-test scenario against a solution module; returns plain arrays.

Runs twice per scenario: in the grader on the reference solution (expected
values) and in the sandboxed child on the submission (actual values).  It is
copied into the sandbox, so it imports nothing but numpy, interface and kit_runner.

A scenario is a dict:
  {'kind': 'optimizer', 'class', 'kwargs', 'parameters': [p], 'grads': [[g per parameter] per step]}
  {'kind': 'loss', 'class', 'y_gt', 'y_pred'}
  {'kind': 'function', 'name', 'args': [...]}
  {'kind': 'layer', 'class', 'args', 'kwargs', 'input_shape', 'parameters': {name: value},
   'state': {name: value}, 'record_state': [name], 'steps': [{'training', 'seed', 'inputs', 'output_grad'}]}
and the result maps output names ('step0.outputs', 'step0.weights_grad', ...) to
``Output``s: the array, or why there is none (an exception or a non-array value).
"""

import numpy as np

import interface

try:  # kit_execute.py in the sandbox, beside kit_runner.py
    from kit_runner import Output, StepFailed, call, describe_exception
except ImportError:  # grader.execute, or public_tests.execute in the student kit: kit_runner.py beside it
    from .kit_runner import Output, StepFailed, call, describe_exception


def as_output(value, what):
    if type(value) is not np.ndarray:
        return Output(problem=f"{what} returned {type(value).__module__}.{type(value).__qualname__}, "
                              f"expected numpy.ndarray")
    if value.dtype.kind not in 'biuf':
        return Output(problem=f"{what} returned an array of dtype {value.dtype}, expected numbers")
    return Output(np.array(value))


class KeepParameters(interface.Optimizer):
    """Layers under test are built with this optimizer: their parameters never move."""

    def get_parameter_updater(self, parameter_shape):
        return lambda parameter, parameter_grad: np.array(parameter)


def run_optimizer(solution, scenario, record):
    optimizer = call(lambda: getattr(solution, scenario['class'])(**scenario['kwargs']), 'constructor')
    parameters = [np.array(p) for p in scenario['parameters']]
    updaters = [call(optimizer.get_parameter_updater, 'get_parameter_updater', p.shape) for p in parameters]
    for step, grads in enumerate(scenario['grads']):
        for index, (updater, grad) in enumerate(zip(updaters, grads)):
            new = call(updater, f"step {step + 1}, parameter {index}",
                       interface.read_only(parameters[index]), interface.read_only(grad))
            record(f"step{step}.parameter{index}", new, f"updater (step {step + 1}, parameter {index})")
            if type(new) is not np.ndarray:
                return
            parameters[index] = np.array(new)


def run_loss(solution, scenario, record):
    loss = call(lambda: getattr(solution, scenario['class'])(), 'constructor')
    y_gt, y_pred = interface.read_only(scenario['y_gt']), interface.read_only(scenario['y_pred'])
    record('value', call(loss.value_impl, 'value_impl', y_gt, y_pred), 'value_impl')
    record('gradient', call(loss.gradient_impl, 'gradient_impl', y_gt, y_pred), 'gradient_impl')


def run_function(solution, scenario, record):
    function = getattr(solution, scenario['name'])
    record('outputs', call(function, scenario['name'], *scenario['args']), scenario['name'])


def run_layer(solution, scenario, record):
    cls = getattr(solution, scenario['class'])
    layer = call(lambda: cls(*scenario.get('args', ()), **scenario.get('kwargs', {})), 'constructor')
    layer.input_shape = tuple(scenario['input_shape'])
    call(layer.build, 'build', KeepParameters())
    for name, value in {**scenario.get('parameters', {}), **scenario.get('state', {})}.items():
        setattr(layer, name, np.array(value))
    for step, spec in enumerate(scenario['steps']):
        layer.is_training = spec['training']
        if spec.get('seed') is not None:
            np.random.seed(spec['seed'])
        record(f"step{step}.outputs", call(layer.forward, f"forward (step {step + 1})", spec['inputs']),
               f"forward_impl (step {step + 1})")
        if spec.get('output_grad') is not None:
            record(f"step{step}.inputs_grad",
                   call(layer.backward, f"backward (step {step + 1})", spec['output_grad']),
                   f"backward_impl (step {step + 1})")
            for name in layer.parameter_updaters:
                record(f"step{step}.{name}_grad", getattr(layer, f"{name}_grad", None), f"{name}_grad")
        for name in scenario.get('record_state', ()):
            record(f"step{step}.{name}", getattr(layer, name, None), name)


def running(task):
    """The context a child's scenarios run in: the kit's torch convolution on or off."""
    return interface.use_fast_convolve(task.get('fast_convolve', False))


def warm_up():
    """Load torch's convolution kernels (before the sandbox's guard is up)."""
    for dtype in (np.float32, np.float64):
        interface.convolve_pytorch(np.zeros((2, 2, 5, 5), dtype), np.zeros((2, 2, 3, 3), dtype), 1)


RUNNERS = {'optimizer': run_optimizer, 'loss': run_loss, 'function': run_function, 'layer': run_layer}


def run_scenario(solution, scenario):
    """({output name: Output}, failure text or None) of ``scenario`` on ``solution``."""
    outputs = {}

    def record(name, value, what):
        outputs[name] = as_output(value, what)

    try:
        RUNNERS[scenario['kind']](solution, scenario, record)
    except StepFailed as failure:
        return outputs, str(failure)
    return outputs, None
