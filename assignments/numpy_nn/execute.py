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
    from kit_runner import Output, StepFailed, call, describe_exception  # noqa: F401 - describe_exception: harness
except ImportError:  # in the grader, and in the student kit (its copy of the checker's modules)
    from grader.kit_runner import Output, StepFailed, call, describe_exception  # noqa: F401


def as_output(value, what):
    if type(value) is not np.ndarray:
        return Output(problem=f"{what} returned {type(value).__module__}.{type(value).__qualname__}, "
                              f"expected numpy.ndarray")
    if value.dtype.kind not in 'biuf':
        return Output(problem=f"{what} returned an array of dtype {value.dtype}, expected numbers")
    return Output(np.array(value))


class KeepParameters(interface.Optimizer):
    """Layers under test are built with this optimizer: their parameters never move, and every call of
    an updater is counted (``backward`` must not update the parameters)."""

    def __init__(self):
        self.updates = 0

    def get_parameter_updater(self, parameter_shape):
        def updater(parameter, parameter_grad):
            self.updates += 1
            return np.array(parameter)
        return updater


def broken_contract(what, problem):
    """A side effect the layer's contract forbids, reported like the kit's own checks (a wrong answer)."""
    return StepFailed(f"{what}: ContractError: {problem}")


def snapshot(layer, names):
    """{name: a copy of the layer's attribute ``name``} for the attributes that are arrays."""
    return {name: np.array(value) for name in names
            if isinstance(value := getattr(layer, name, None), np.ndarray)}


def changed(layer, before):
    """The names in ``before`` whose attribute is no longer equal to its copy."""
    return [name for name, old in before.items()
            if not isinstance(now := getattr(layer, name, None), np.ndarray) or now.shape != old.shape
            or not np.array_equal(now, old, equal_nan=True)]


# The parameters' documented shapes (the points table), named in the message of a wrongly built layer.
PARAMETER_SHAPES = {'Dense': {'weights': '(output_units, input_units)', 'biases': '(output_units,)'},
                    'Conv2D': {'kernels': '(output_channels, input_channels, kernel_size, kernel_size)',
                               'biases': '(output_channels,)'},
                    'BatchNorm': {'gamma': '(channels,)', 'beta': '(channels,)'}}


def check_built_shapes(layer, parameters, cls):
    """``build`` registered each parameter the case sets, with the documented shape (checked by calling
    it, whatever the text of the student's ``build``)."""
    for name, value in parameters.items():
        if name not in layer.parameter_updaters:
            raise broken_contract('build', f"no parameter '{name}' was registered (add_parameter)")
        built = np.shape(getattr(layer, name, None))
        if built != np.shape(value):
            documented = PARAMETER_SHAPES.get(cls, {}).get(name, 'documented')
            raise broken_contract('build', f"'{name}' was registered with shape {built}, but {cls} keeps {name} as "
                                           f"{documented}: {np.shape(value)} for this input shape")


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
    # convolve_numpy where the file has one, else the student's own convolve (a file without the kit's split)
    function = getattr(solution, scenario['name'], None) or getattr(solution, FUNCTION_FALLBACKS.get(scenario['name']))
    record('outputs', call(function, scenario['name'], *scenario['args']), scenario['name'])


def run_layer(solution, scenario, record):
    cls = getattr(solution, scenario['class'])
    layer = call(lambda: cls(*scenario.get('args', ()), **scenario.get('kwargs', {})), 'constructor')
    layer.input_shape = tuple(scenario['input_shape'])
    optimizer = KeepParameters()
    call(layer.build, 'build', optimizer)
    check_built_shapes(layer, scenario.get('parameters', {}), scenario['class'])
    for name, value in {**scenario.get('parameters', {}), **scenario.get('state', {})}.items():
        setattr(layer, name, np.array(value))
    parameters = list(layer.parameter_updaters)
    gradients = [f"{name}_grad" for name in parameters]
    for step, spec in enumerate(scenario['steps']):
        layer.is_training = spec['training']
        if spec.get('seed') is not None:
            np.random.seed(spec['seed'])
        before = snapshot(layer, parameters + gradients)
        record(f"step{step}.outputs", call(layer.forward, f"forward (step {step + 1})", spec['inputs']),
               f"forward_impl (step {step + 1})")
        moved = changed(layer, before)
        if moved:  # side effects are part of the contract
            raise broken_contract(f"forward (step {step + 1})", f"forward changed {', '.join(map(repr, moved))}: "
                                                                f"forward must leave parameters and gradients alone")
        if spec.get('output_grad') is not None:
            before, optimizer.updates = snapshot(layer, parameters), 0
            record(f"step{step}.inputs_grad",
                   call(layer.backward, f"backward (step {step + 1})", spec['output_grad']),
                   f"backward_impl (step {step + 1})")
            for name in parameters:
                record(f"step{step}.{name}_grad", getattr(layer, f"{name}_grad", None), f"{name}_grad")
            moved = changed(layer, before)
            if optimizer.updates or moved:
                raise broken_contract(f"backward (step {step + 1})", "backward updated the parameters (the model "
                                      "calls update_parameters after backward, once per step)")
            check_fresh_gradients(layer, gradients, spec, step)
        for name in scenario.get('record_state', ()):
            record(f"step{step}.{name}", getattr(layer, name, None), name)


def check_fresh_gradients(layer, gradients, spec, step):
    """A second backward of the same batch gives the same gradients: nothing accumulates across calls."""
    if not gradients:
        return
    first = snapshot(layer, gradients)
    call(layer.backward, f"backward (step {step + 1}, repeated)", spec['output_grad'])
    different = changed(layer, first)
    if different:
        raise broken_contract(f"backward (step {step + 1}, repeated)",
                              f"a second backward of the same batch gave another {', '.join(map(repr, different))}: "
                              f"gradients must be those of the last backward alone, not accumulated")


def running(task):
    """The context a child's scenarios run in: the kit's torch convolution on or off."""
    return interface.use_fast_convolve(task.get('fast_convolve', False))


def trusted_convolve(inputs, kernels, padding=0):
    """The kit's convolution, for a layer judged apart from the student's convolve_numpy."""
    return interface.convolve_pytorch(inputs, kernels, padding)


def isolate(solution, task):
    """Judge a section alone: after the student's module is imported, what the section must not depend on
    is replaced by the kit's own, by name in the module.  Conv2D runs on the kit's convolution, whatever
    the file's ``convolve`` and ``convolve_numpy`` do, so a broken convolve_numpy costs the convolve
    section only."""
    if task.get('fast_convolve'):
        for name in ('convolve', 'convolve_numpy'):
            setattr(solution, name, trusted_convolve)


def warm_up():
    """Load torch's convolution kernels (before the sandbox's guard is up)."""
    for dtype in (np.float32, np.float64):
        interface.convolve_pytorch(np.zeros((2, 2, 5, 5), dtype), np.zeros((2, 2, 3, 3), dtype), 1)


FUNCTION_FALLBACKS = {'convolve_numpy': 'convolve'}
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
