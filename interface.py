"""Kit code for the "Training multilayer neural networks on numpy" homework.

Students receive this file as it is and must not edit it: the checker always
runs submissions against its own copy.  It holds

* the abstract ``Optimizer``, ``Layer`` and ``Loss`` classes (template methods
  that check shapes and NaNs, then delegate to the student's ``*_impl``),
* ``Model``, the sequential training loop (progress bar on a terminal, one line
  per epoch otherwise, learning-rate schedules, histories, summary, optional
  per-layer timing, float32 or float64 end to end),
* ``he_initializer``, ``eps`` and ``convolve_pytorch`` (the fast convolution
  used for CIFAR-10) with the ``use_fast_convolve`` switch read by
  ``solution.convolve``,
* ``checks_enabled`` / ``use_checks``: the contract checks (shapes, NaN/inf,
  read-only views, per-layer timing); on by default, switched off only by the
  speed benchmark to measure what they cost.

Array shapes use ``n`` for the batch dimension; a layer's ``input_shape`` and
``output_shape`` never include it.
"""
import abc
import contextlib
import os
import sys
import time
import warnings
from abc import ABC, abstractmethod

import numpy as np

eps = float(np.finfo(np.float64).eps)  # a Python float: float32 arrays stay float32 (NEP 50)
np.seterr(all='raise', under='ignore')

# Read by ``solution.convolve`` through ``fast_convolve_enabled``: True dispatches to
# ``convolve_pytorch``.  The unit tests keep it False; the CIFAR-10 gate turns it on.
fast_convolve = False
FAST_CONVOLVE_VARIABLE = 'USE_FAST_CONVOLVE'  # the course's switch, honoured too


def fast_convolve_enabled():
    """Whether ``convolve`` should use torch: ``use_fast_convolve`` is on, or the course's
    ``USE_FAST_CONVOLVE`` environment variable is set (to anything but '', '0', 'false', 'no')."""
    setting = os.environ.get(FAST_CONVOLVE_VARIABLE, '').strip().lower()
    return fast_convolve or setting not in ('', '0', 'false', 'no')


@contextlib.contextmanager
def use_fast_convolve(enabled=True):
    """Temporarily switch ``solution.convolve`` to (or away from) torch.

    While it is on, numpy's BLAS runs on one thread (through threadpoolctl, where installed): its
    idle worker threads busy-wait and take the cores from torch's convolution threads, which made a
    CIFAR-10 epoch of the reference 25% slower on 2 cores, and the layers' own matrix products are
    small.  (Nothing to do where ``OPENBLAS_NUM_THREADS=1`` already, as in the checker's sandbox.)
    """
    global fast_convolve
    previous, fast_convolve = fast_convolve, enabled
    try:
        with _one_blas_thread() if enabled else contextlib.nullcontext():
            yield
    finally:
        fast_convolve = previous


def _one_blas_thread():
    """A context in which numpy's BLAS uses one thread (a no-op context where that cannot or need not be done)."""
    if os.environ.get('OPENBLAS_NUM_THREADS') == '1':
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api='blas')


# The template methods' checks: shapes, NaN/inf, read-only views, per-layer timing.  Always on for
# students and the checker; ``./run.py benchmark speed`` turns them off to measure their cost.
checks_enabled = True


@contextlib.contextmanager
def use_checks(enabled=True):
    """Temporarily switch the template methods' checks on or off (off: the ``*_impl`` calls alone)."""
    global checks_enabled
    previous, checks_enabled = checks_enabled, enabled
    try:
        yield
    finally:
        checks_enabled = previous


def read_only(array):
    """A read-only view of ``array`` (no copy): a layer cannot edit what it does not own."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


def he_initializer(input_dim):
    """Initializer for ``Layer.add_parameter``: normal, mean 0, std sqrt(2 / input_dim)."""
    def _he_initializer(shape):
        return np.random.normal(0.0, np.sqrt(2.0 / input_dim), size=shape)
    return _he_initializer


class ContractError(ValueError):
    """An array that breaks the layer/loss contract: not an ndarray, a wrong shape, NaN or inf."""


def _state_in_dtype(updater, dtype):
    """Optimizer state kept on the updater (the template's ``updater.inertia = np.zeros(shape)``, float64)
    converted to the model's dtype: float64 state in a float32 model makes every update float64 work."""
    for key, value in list(getattr(updater, '__dict__', {}).items()):
        if isinstance(value, np.ndarray) and value.dtype.kind == 'f' and value.dtype != dtype:
            setattr(updater, key, value.astype(dtype))


def _describe(array):
    return f"{type(array).__name__} of shape {getattr(array, 'shape', '?')}"


_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# Rows of the finiteness check: OpenBLAS computes a dot product of up to 10,000 values on the calling
# thread; longer ones wake its worker threads, which then spin and slow torch's threads (CIFAR-10).
_ROW = 8192


def _sum_of_squares(flat):
    """sum(flat ** 2) of a 1-D float32/float64 array in vectorised single-threaded BLAS dot products."""
    if flat.size <= _ROW:
        return flat.dot(flat)
    whole = flat.size - flat.size % _ROW
    rows, tail = flat[:whole].reshape(-1, _ROW), flat[whole:]
    return np.vecdot(rows, rows).sum() + tail.dot(tail)


def _all_finite(array):
    """No NaN or inf in ``array``.

    Fast path for contiguous float32/float64 arrays: the sum of squares, one vectorised pass (NaN and
    inf propagate into it and, all terms being >= 0, nothing cancels).  If that overflows (values above
    ~1e19 in float32) or the array is not contiguous: the exact check.
    """
    if array.dtype in _BLAS_DTYPES and (array.flags.c_contiguous or array.flags.f_contiguous):
        try:
            if np.isfinite(_sum_of_squares(array.ravel(order='K'))):
                return True
        except FloatingPointError:  # np.seterr(over='raise'): a huge but maybe finite value
            pass
    return bool(np.isfinite(array).all())


# The last read-only view a template method returned after checking it finite (a layer's output or
# input gradient).  The next layer of a Model receives that very object, so its finiteness is not
# scanned twice; any other array is checked in full.
_last_checked = None


def _checked(view):
    """Remember ``view`` (a read-only view this module made and checked) as the last checked array."""
    global _last_checked
    _last_checked = view
    return view


# Inside ``Model.train_step``: the list to which the template methods append (array, where) for the
# arrays whose finiteness they leave to the model (see ``Model.train_step``); None elsewhere: every
# array is checked at once.
_pending = None


def _non_finite_error(array, where):
    bad = np.size(array) - np.count_nonzero(np.isfinite(array))
    return ContractError(f"{where}: {bad} of {array.size} values are NaN or infinite (shape {array.shape})")


def _check_array(array, expected_shape, where, keep=True):
    """Raise a ContractError naming ``where`` unless ``array`` is a finite ndarray of ``expected_shape``.

    Inside ``Model.train_step`` only the shape is checked here; the finiteness is left to the model,
    which gets ``(array, where)`` in ``_pending`` if ``keep`` (the backward pass's input gradients are
    not kept: the model runs the pass again with every check to find a bad one)."""
    if not isinstance(array, np.ndarray):
        raise ContractError(f"{where}: expected a numpy array of shape {expected_shape}, got {_describe(array)}")
    if array.shape != tuple(expected_shape):
        raise ContractError(f"{where}: expected shape {tuple(expected_shape)}, got {array.shape}")
    if array is _last_checked or array.dtype.kind != 'f':
        return
    if _pending is not None:
        if keep:
            _pending.append((array, where))
    elif not _all_finite(array):
        raise _non_finite_error(array, where)


# ============================================================================
# Optimizers
# ============================================================================

class Optimizer(ABC):
    """Makes one ``updater(parameter, parameter_grad) -> new_parameter`` per parameter.

    Any state (momentum, ...) belongs to the updater, so that parameters never
    share it.  Both arguments of an updater are read-only arrays.
    """

    @abstractmethod
    def get_parameter_updater(self, parameter_shape):
        pass


# ============================================================================
# Layers
# ============================================================================

class Layer(ABC):
    """One step of a sequential network.

    ``forward(inputs)`` takes ``(n,) + input_shape`` and returns
    ``(n,) + output_shape``; ``backward(output_grad)`` takes dL/d(outputs) and
    returns dL/d(inputs), filling ``<parameter>_grad`` on the way.  Both check
    shapes and finiteness and then call the student's ``forward_impl`` /
    ``backward_impl``; ``forward_inputs`` and ``forward_outputs`` keep the last
    forward pass (read-only) for the backward pass.
    """

    def __init__(self, input_shape=None):
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.output_shape = None
        self.forward_inputs = None
        self.forward_outputs = None
        self.is_training = True
        self.dtype = np.float64
        self.optimizer = None
        self.parameter_updaters = {}
        self.forward_seconds = 0.0
        self.backward_seconds = 0.0
        self._checked_grads = {}  # parameter name -> the gradient object backward() checked

    @property
    def name(self):
        return type(self).__name__

    def build(self, optimizer, prev_layer=None):
        """Fix ``input_shape`` (from the previous layer) and create the parameters."""
        self.optimizer = optimizer
        if prev_layer is not None:
            self.input_shape = prev_layer.output_shape
        if self.input_shape is None:
            raise ValueError(f"{self.name}: the first layer needs input_shape=(...)")
        self.output_shape = self.input_shape

    def add_parameter(self, name, shape, initializer):
        """Create a trainable parameter; returns ``(value, zero gradient)``.

        ``update_parameters`` later reads ``self.<name>`` and ``self.<name>_grad``.
        """
        shape = tuple(shape)
        if self.optimizer is None:
            raise RuntimeError(f"{self.name}: add_parameter('{name}') before build(optimizer)")
        value = np.asarray(initializer(shape), dtype=self.dtype)
        if value.shape != shape:
            raise ValueError(f"{self.name}.{name}: initializer returned {value.shape}, expected {shape}")
        updater = self.optimizer.get_parameter_updater(shape)
        _state_in_dtype(updater, self.dtype)
        self.parameter_updaters[name] = updater
        return value, np.zeros(shape, dtype=self.dtype)

    def update_parameters(self):
        """Replace every parameter by its updater's result (the gradients were filled by ``backward``)."""
        checked_grads, self._checked_grads = getattr(self, '_checked_grads', {}), {}
        for name, updater in self.parameter_updaters.items():
            value = getattr(self, name)
            grad = getattr(self, f"{name}_grad")
            if not checks_enabled:
                setattr(self, name, np.asarray(updater(value, grad)).astype(self.dtype, copy=False))
                continue
            if grad is not checked_grads.get(name):  # backward() checked this very object already
                _check_array(grad, value.shape, f"{self.name}.{name}_grad")
            new_value = np.asarray(updater(read_only(value), read_only(grad)))
            _check_array(new_value, value.shape, f"{self.name}: optimizer update of '{name}'")
            setattr(self, name, new_value.astype(self.dtype, copy=False))

    @property
    def parameter_count(self):
        return sum(getattr(self, name).size for name in self.parameter_updaters)

    def forward(self, inputs):
        """(n,) + input_shape -> (n,) + output_shape."""
        if not checks_enabled:
            self.forward_inputs = inputs
            self.forward_outputs = self.forward_impl(inputs).astype(inputs.dtype, copy=False)
            return self.forward_outputs
        n = np.shape(inputs)[0] if np.ndim(inputs) else 0
        _check_array(inputs, (n,) + tuple(self.input_shape), f"{self.name}.forward inputs")
        inputs = read_only(inputs)
        self.forward_inputs = inputs
        started = time.perf_counter()
        outputs = self.forward_impl(inputs)
        self.forward_seconds += time.perf_counter() - started
        _check_array(outputs, (n,) + tuple(self.output_shape), f"{self.name}.forward_impl output")
        outputs = _checked(read_only(outputs.astype(inputs.dtype, copy=False)))
        self.forward_outputs = outputs
        return outputs

    def backward(self, output_grad):
        """dL/d(outputs), (n,) + output_shape -> dL/d(inputs), (n,) + input_shape."""
        if self.forward_inputs is None:
            raise RuntimeError(f"{self.name}: backward() before forward()")
        if not checks_enabled:
            return self.backward_impl(output_grad).astype(self.forward_inputs.dtype, copy=False)
        n = self.forward_inputs.shape[0]
        _check_array(output_grad, (n,) + tuple(self.output_shape), f"{self.name}.backward output_grad", keep=False)
        started = time.perf_counter()
        input_grad = self.backward_impl(read_only(output_grad))
        self.backward_seconds += time.perf_counter() - started
        _check_array(input_grad, (n,) + tuple(self.input_shape), f"{self.name}.backward_impl result", keep=False)
        self._checked_grads = {}
        for name in self.parameter_updaters:
            grad = getattr(self, f"{name}_grad")
            _check_array(grad, getattr(self, name).shape, f"{self.name}.{name}_grad")
            self._checked_grads[name] = grad
        return _checked(read_only(input_grad.astype(self.forward_inputs.dtype, copy=False)))

    @abstractmethod
    def forward_impl(self, inputs):
        pass

    @abstractmethod
    def backward_impl(self, output_grad):
        pass


# ============================================================================
# Losses
# ============================================================================

class Loss(ABC):
    """``value`` is the batch-mean loss, shape ``(1,)``; ``gradient`` is dL/d(y_pred),
    shape of ``y_pred``, already divided by the batch size."""

    def value(self, y_gt, y_pred):
        if not checks_enabled:
            return self.value_impl(y_gt, y_pred)
        _check_array(y_pred, np.shape(y_gt), f"{type(self).__name__}.value y_pred")
        value = self.value_impl(read_only(y_gt), read_only(y_pred))
        _check_array(value, (1,), f"{type(self).__name__}.value_impl result")
        return value

    def gradient(self, y_gt, y_pred):
        if not checks_enabled:
            return self.gradient_impl(y_gt, y_pred)
        _check_array(y_pred, np.shape(y_gt), f"{type(self).__name__}.gradient y_pred")
        grad = self.gradient_impl(read_only(y_gt), read_only(y_pred))
        _check_array(grad, y_pred.shape, f"{type(self).__name__}.gradient_impl result")
        return grad

    @abstractmethod
    def value_impl(self, y_gt, y_pred):
        pass

    @abstractmethod
    def gradient_impl(self, y_gt, y_pred):
        pass


# ============================================================================
# Model
# ============================================================================

def _accuracy(y_gt, y_pred):
    """Share of rows whose arg-max agrees (one-hot ``y_gt``, ``y_pred`` of shape (n, classes))."""
    return float(np.mean(np.argmax(y_gt, axis=1) == np.argmax(y_pred, axis=1)))


def _progress(iterable, **kwargs):
    from tqdm.auto import tqdm
    return tqdm(iterable, **kwargs)


def _live_output():
    """Whether a live progress bar has a watcher: tqdm draws on stderr, so a terminal there, or a
    Jupyter kernel.  Elsewhere (a log file, a pipe, the checker) its carriage returns would pile up,
    so ``fit`` prints one line per epoch instead."""
    if 'ipykernel' in sys.modules:
        return True
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def _scheduled_lr(lr_schedule, epoch, epochs):
    """The learning rate of ``epoch`` (0-based): ``lr_schedule[epoch]`` or ``lr_schedule(epoch)``."""
    if callable(lr_schedule):
        lr = lr_schedule(epoch)
    else:
        if len(lr_schedule) != epochs:
            raise ValueError(f"Model.fit: lr_schedule lists {len(lr_schedule)} learning rates for {epochs} epochs")
        lr = lr_schedule[epoch]
    if not isinstance(lr, (int, float, np.integer, np.floating)) or not np.isfinite(lr) or lr < 0:
        raise ValueError(f"Model.fit: lr_schedule gave {lr!r} for epoch {epoch} (0-based); expected a number >= 0")
    return float(lr)


class Model:
    """A sequential network: ``add`` layers, then ``fit`` / ``evaluate`` / ``predict``.

    ``dtype`` (float64 by default) is the precision of parameters and data in
    training; float32 is about twice as fast.  After ``fit`` the per-epoch
    histories are ``loss_train_history``, ``loss_valid_history``,
    ``accuracy_train_history``, ``accuracy_valid_history`` and ``lr_history``
    (the optimizer's ``lr`` in each epoch, None if it has none).
    """

    def __init__(self, loss, optimizer, dtype=np.float64):
        self.loss = loss
        self.optimizer = optimizer
        self.dtype = np.dtype(dtype)
        self.layers = []
        self.loss_train_history = []
        self.loss_valid_history = []
        self.accuracy_train_history = []
        self.accuracy_valid_history = []
        self.lr_history = []
        self._unverified = []  # (array, where) of training steps whose finiteness is not verified yet

    def add(self, layer):
        layer.dtype = self.dtype
        layer.build(self.optimizer, prev_layer=self.layers[-1] if self.layers else None)
        self.layers.append(layer)

    def set_training(self, is_training):
        for layer in self.layers:
            layer.is_training = is_training

    def forward(self, inputs):
        for layer in self.layers:
            inputs = layer.forward(inputs)
        return inputs

    def backward(self, output_grad):
        """Back-propagate dL/d(outputs) through every layer; returns dL/d(inputs) of the first."""
        for layer in reversed(self.layers):
            output_grad = layer.backward(output_grad)
        return output_grad

    def train_step(self, x, y_gt):
        """One SGD step on a batch; returns (batch loss, batch accuracy).

        Inside this method the template methods check every shape at once but leave finiteness to the
        model: scanning every layer's output, input gradient, parameter gradients and updated
        parameters for NaN/inf took 10% of an MLP epoch.  A few arrays are enough, as a NaN or inf
        propagates through the arithmetic that follows it: into the model's output, the loss and its
        gradient (checked after the forward pass), into the first layer's input gradient (checked
        after the backward pass), and from a parameter gradient into the updated parameter and from
        there into the next step's output.  So a finite output also verifies the previous step's
        gradients and updates; ``fit`` scans the last step's at the end of each epoch, as ``predict``
        does first.  When a check fails, or the step raises (numpy raises on inf - inf), the error is
        the one the per-layer checks would have raised, naming the layer: the arrays of the forward
        pass and the parameters' (the layers keep them anyway) are collected in ``_unverified`` and
        scanned in the order they were made, and the backward pass is run again with every check.
        The price: a NaN that a later layer drops (``np.where``, clipping) is reported only at the end
        of the epoch if it reached a parameter, else not at all.  Outside ``train_step`` (a layer
        tested alone, ``predict``) every array is checked at once.
        """
        if not checks_enabled:
            return self._step(x, y_gt)
        global _pending, _last_checked
        outer, _pending = _pending, self._unverified
        try:
            return self._step(x, y_gt, checked=True)
        except Exception as error:  # noqa: BLE001 - e.g. a FloatingPointError that an earlier NaN caused
            self._check_unverified(cause=error)  # (empty if the error was located already)
            raise
        finally:
            _pending, _last_checked = outer, None

    def _step(self, x, y_gt, checked=False):
        y_pred = self.forward(x)
        loss = self.loss.value(y_gt, y_pred)
        # numpy promotes float32 arrays with float64 scalars (eps): keep the model's dtype
        output_grad = self.loss.gradient(y_gt, y_pred).astype(self.dtype, copy=False)
        if checked:
            if not (_all_finite(y_pred) and _all_finite(loss) and _all_finite(output_grad)):
                self._check_unverified()
                raise ContractError("Model.train_step: the model's output, loss or loss gradient is not finite")
            self._unverified.clear()  # a finite output: so were the arrays it was computed from
            self._checked_backward(output_grad)
        else:
            self.backward(output_grad)
        for layer in self.layers:
            layer.update_parameters()  # the parameters' gradients and updates: checked by the next output
        return float(loss[0]), _accuracy(y_gt, y_pred)

    def _checked_backward(self, output_grad):
        """``backward``, checked through the first layer's input gradient: if it is not finite, or the
        pass raises, the pass is run again with every check on, to name the layer that made the NaN."""
        global _pending
        error = None
        try:
            input_grad = self.backward(output_grad)
            if _all_finite(input_grad):
                return
        except Exception as raised:  # noqa: BLE001 - maybe caused by an earlier NaN
            error = raised
        self._unverified.clear()  # this step's parameter gradients: the second pass checks them too
        outer, _pending = _pending, None
        try:
            self.backward(output_grad)
        except ContractError as located:
            raise located from error
        except Exception:  # noqa: BLE001 - the same error again: the first one is reported
            pass
        finally:
            _pending = outer
        raise error or _non_finite_error(input_grad, f"{self.layers[0].name}.backward_impl result")

    def _check_unverified(self, cause=None):
        """Scan the arrays of training steps whose finiteness is not verified yet, then forget them;
        raise the ContractError of the first one holding a NaN or inf (from ``cause``)."""
        pending = list(self._unverified)
        self._unverified.clear()
        for array, where in pending:
            if not _all_finite(array):
                raise _non_finite_error(array, where) from cause

    def fit(self, x_train, y_train, batch_size, epochs, shuffle=True, verbose=True,
            x_valid=None, y_valid=None, profile=False, lr_schedule=None, augment=None):
        """Train for ``epochs`` passes over ``x_train`` (n, ...) / one-hot ``y_train`` (n, classes).

        Each epoch draws one permutation (``shuffle``) and takes batches of ``batch_size`` rows,
        converted to the model's dtype batch by batch (the data set is not copied).
        ``lr_schedule``: a list of ``epochs`` learning rates, or a function ``epoch -> lr`` with
        ``epoch`` counted from 0; it sets the optimizer's ``lr`` before each epoch, so that one
        call logs "Epoch 3/8".  ``augment``: a function ``x_batch -> x_batch`` (same shape) applied
        to every training batch, e.g. random flips; the inputs it gets are read-only.
        ``verbose``: a progress bar on a terminal (or in Jupyter), else one line per epoch.
        ``profile=True`` prints the time spent in each layer's forward and backward after each epoch.
        """
        if not self.layers:
            raise ValueError("Model.fit: add layers first")
        x_train = np.asarray(x_train)
        y_train = np.asarray(y_train, dtype=self.dtype)
        if len(x_train) != len(y_train):
            raise ValueError(f"Model.fit: {len(x_train)} inputs but {len(y_train)} labels")
        if lr_schedule is not None and not hasattr(self.optimizer, 'lr'):
            raise ValueError(f"Model.fit: lr_schedule needs an optimizer with an 'lr' attribute, "
                             f"{type(self.optimizer).__name__} has none")
        live = verbose and _live_output()
        for epoch in range(epochs):
            if lr_schedule is not None:
                self.optimizer.lr = _scheduled_lr(lr_schedule, epoch, epochs)
            started = time.perf_counter()
            order = np.random.permutation(len(x_train)) if shuffle else None
            bar = _progress(range(0, len(x_train), batch_size), desc=f"Epoch {epoch + 1}/{epochs}",
                            disable=not live, unit='batch', leave=True)
            self.set_training(True)
            loss_sum = correct = seen = 0.0
            for start in bar:
                batch = slice(start, start + batch_size) if order is None else order[start:start + batch_size]
                x = x_train[batch].astype(self.dtype, copy=False)
                if augment is not None:
                    x = np.asarray(augment(read_only(x)), dtype=self.dtype)
                loss, accuracy = self.train_step(x, y_train[batch])
                loss_sum, correct, seen = loss_sum + loss * len(x), correct + accuracy * len(x), seen + len(x)
                if live:
                    bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
            bar.close()
            if checks_enabled:
                self._check_unverified()  # the last step's gradients and updates (see train_step)
            self.loss_train_history.append(loss_sum / seen)
            self.accuracy_train_history.append(correct / seen)
            lr = getattr(self.optimizer, 'lr', None)
            self.lr_history.append(lr)
            summary = f"train loss {self.loss_train_history[-1]:.4f}, acc {self.accuracy_train_history[-1]:.4f}"
            if x_valid is not None:
                loss, accuracy = self.evaluate(x_valid, y_valid, batch_size)
                self.loss_valid_history.append(loss)
                self.accuracy_valid_history.append(accuracy)
                summary += f"; valid loss {loss:.4f}, acc {accuracy:.4f}"
            if verbose:
                rate = f" (lr {lr:g})" if isinstance(lr, (int, float, np.number)) else ""
                line = f"Epoch {epoch + 1}/{epochs}{rate}: {summary}; {time.perf_counter() - started:.1f} s"
                if live:
                    bar.write(line)
                else:
                    print(line, flush=True)
            if profile:
                print(self.profile_report())

    def predict(self, x, batch_size=256):
        """Outputs of the last layer in inference mode, (n,) + output_shape."""
        if checks_enabled:
            self._check_unverified()  # parameters from train_step calls (see there)
        self.set_training(False)
        x = np.asarray(x)
        outputs = [self.forward(x[start:start + batch_size].astype(self.dtype, copy=False))
                   for start in range(0, len(x), batch_size)]
        return np.concatenate(outputs)

    def evaluate(self, x, y, batch_size=256):
        """(mean loss, accuracy) of the model in inference mode on inputs ``x`` and one-hot ``y``."""
        y = np.asarray(y, dtype=self.dtype)
        y_pred = self.predict(x, batch_size)
        return float(self.loss.value(y, y_pred)[0]), _accuracy(y, y_pred)

    def profile_report(self):
        """Per-layer forward/backward seconds accumulated since the model was built."""
        lines = [f"{'layer':<24}{'forward, s':>12}{'backward, s':>13}"]
        for index, layer in enumerate(self.layers):
            lines.append(f"{f'{index}. {layer.name}':<24}{layer.forward_seconds:>12.3f}{layer.backward_seconds:>13.3f}")
        return "\n".join(lines)

    def summary(self):
        lines = [f"{'layer':<24}{'output shape':<20}{'parameters':>12}"]
        for index, layer in enumerate(self.layers):
            lines.append(f"{f'{index}. {layer.name}':<24}{str(layer.output_shape):<20}{layer.parameter_count:>12,}")
        total = sum(layer.parameter_count for layer in self.layers)
        lines.append(f"Total parameters: {total:,} ({self.dtype.name})")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


# ============================================================================
# Fast convolution (CIFAR-10)
# ============================================================================

def convolve_pytorch(inputs, kernels, padding=0):
    """The same operation as ``solution.convolve_numpy``, computed by torch on the CPU.

    inputs (n, d, ih, iw), kernels (c, d, kh, kw) ->
    (n, c, ih - kh + 1 + 2 * padding, iw - kw + 1 + 2 * padding).
    A true convolution: torch's conv2d is a cross-correlation, so the kernels
    are flipped first.
    """
    import torch
    dtype = np.result_type(inputs, kernels)
    # torch refuses negative strides (np.ascontiguousarray keeps them for 1x1 kernels): copy.
    flipped = kernels[:, :, ::-1, ::-1].astype(dtype)
    output_shape = tuple(size - kernel_size + 1 + 2 * padding
                         for size, kernel_size in zip(inputs.shape[2:], kernels.shape[2:]))
    with torch.no_grad(), warnings.catch_warnings():
        # Inputs may be read-only views; torch only reads them here.
        warnings.filterwarnings('ignore', message='The given NumPy array is not writable')
        if np.prod(kernels.shape[2:]) <= np.prod(output_shape):
            outputs = torch.nn.functional.conv2d(torch.from_numpy(np.ascontiguousarray(inputs, dtype=dtype)),
                                                 torch.from_numpy(flipped), padding=padding)
            return outputs.numpy()
        # Kernels larger than the output: a layer's kernel gradient, the batch in the role of the
        # channels.  The same sums are torch's weight gradient of a convolution of inputs^T
        # (d, n, ih, iw) giving flipped^T (d, c, kh, kw), which torch computes 2-3x faster than a
        # conv2d with such kernels: out[a, c] = sum_b inputs[a, b] * flipped[c, b] = weight_grad[c, a].
        weight_grad = torch.nn.grad.conv2d_weight(
            torch.from_numpy(np.ascontiguousarray(inputs.transpose(1, 0, 2, 3), dtype=dtype)),
            (kernels.shape[0], inputs.shape[0]) + output_shape,
            torch.from_numpy(np.ascontiguousarray(flipped.transpose(1, 0, 2, 3))), padding=padding)
    return weight_grad.numpy().transpose(1, 0, 2, 3)
