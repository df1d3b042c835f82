"""What every file of the corpus is, and the verdict each of its twelve unit sections must get.

The corpus holds solutions written the way students of the course write them: each
file is ``course_template_2025.py`` (the course's own 2025 template: no module
docstring, ``from interface import *``, lower-case ``# your code here`` markers, the
``USE_FAST_CONVOLVE`` dispatcher above ``convolve_numpy``) with its regions filled in.

Verdicts are what is RIGHT under the grader's default configuration, whatever a given
grader version says:

* a Python loop over data (batch, units, channels, pixels) in a layer, loss or
  optimizer computation, wherever it hides (a module-level helper, a comprehension,
  ``np.vectorize``), or more than two nested data loops in ``convolve_numpy``:
  'policy violation', and the text says 'loop';
* an import of a forbidden module (scipy, torch, os, sys, ...): 'policy violation'
  naming the module; the pure standard library (copy, collections, functools, math,
  operator, typing, ...) is allowed;
* an exception on a valid input: 'runtime error';
* a wrong value (or a parameter of the wrong shape): 'wrong answer'.

Every 'passed' section was checked in-process against the reference on the hidden
cases (tests/numpy_nn/test_corpus.py::test_ground_truth repeats that check), and every bug
gives a wrong value there.
"""
from tests.support.corpus_support import VERDICTS, Entry  # noqa: F401 - VERDICTS: read from here by the tests

TEMPLATE = 'course_template_2025.py'  # the course's template, unfilled: scores nothing


ENTRIES = (
    # ------------------------------------------------------------------ correct in every unit section
    Entry('anna_einsum.py',
          "correct: einsum and sliding_window_view, double quotes, comments, `import copy` (keeps the best "
          "epoch's model), softmax backward through the full Jacobian; train_mnist_model 784-256-10, 3 epochs",
          passes_mnist=True),
    Entry('boris_strided.py',
          "correct: as_strided im2col, helper methods added inside Conv2D and Pooling2D, "
          "`[np.arange(s) for s in x.shape[:-1]]` with np.ix_ in max pooling, a namedtuple from collections, "
          "math.prod, np.random.rand for the dropout mask (the same draw as np.random.uniform)"),
    Entry('clara_kernel_loops.py',
          "correct: convolve_numpy with two nested loops over the kernel taps (allowed), module-level helpers "
          "used by the layers, every docstring deleted, Dense.build's add_parameter calls reformatted onto one "
          "line with double quotes, Flatten unpacking (n, d, h, w)"),
    Entry('denis_compact.py',
          "correct: terse style, convolve_numpy with two nested loops over the output pixels (allowed), "
          "functools.reduce/operator/typing for a prod() helper, np.heaviside for ReLU'"),
    # ------------------------------------------------------------------ real bugs
    Entry('egor_accumulate.py',
          "Dense gradients accumulate (`self.weights_grad += ...`: right on the first step only); BatchNorm "
          "running statistics with the momentum on the wrong side; comments in Russian",
          expected={'dense': 'wrong answer', 'batchnorm': 'wrong answer'},
          phrases={'dense': ('weights_grad',), 'batchnorm': ('running_mean',)}),
    Entry('fedor_unbiased.py',
          "BatchNorm with the unbiased variance (ddof=1); ReLU'(0) = 0; Flatten in Fortran order",
          expected={'relu': 'wrong answer', 'batchnorm': 'wrong answer', 'flatten': 'wrong answer'},
          phrases={'relu': ('inputs_grad',), 'batchnorm': ('outputs',), 'flatten': ('outputs',)}),
    Entry('galina_argmax_ce.py',
          "cross-entropy that only reads y_pred at argmax(y_gt) (right for one-hot labels, wrong for soft "
          "ones); Dropout at inference without the (1 - p) scaling; docstrings deleted",
          expected={'crossentropy': 'wrong answer', 'dropout': 'wrong answer'},
          phrases={'crossentropy': ('soft labels', 'value'), 'dropout': ('outputs',)}),
    Entry('harry_unclipped_log.py',
          "cross-entropy without clipping (log(0) raises FloatingPointError under the kit's np.seterr); "
          "softmax over axis 0; momentum state kept on the optimizer and shared between parameters",
          expected={'momentum': 'wrong answer', 'softmax': 'wrong answer', 'crossentropy': 'runtime error'},
          phrases={'momentum': ('parameter',), 'softmax': ('outputs',), 'crossentropy': ('FloatingPointError',)}),
    Entry('irina_ties_noflip.py',
          "max-pool gradient to every tied maximum; convolve_numpy without flipping the kernel "
          "(cross-correlation), while Conv2D itself is right (the grader runs it on the kit's convolution)",
          expected={'convolve': 'wrong answer', 'pooling2d': 'wrong answer'},
          phrases={'convolve': ('outputs',), 'pooling2d': ('ties', 'inputs_grad')}),
    # ------------------------------------------------------------------ rule breaking (right values)
    Entry('kostya_softmax_loop.py',
          "a per-sample Python loop in Softmax.forward_impl; np.vectorize in ReLU",
          expected={'relu': 'policy violation', 'softmax': 'policy violation'},
          phrases={'relu': ('loop',), 'softmax': ('loop',)}),
    Entry('lena_four_loops.py',
          "convolve_numpy with four nested loops (batch, channels, height, width); a list comprehension over "
          "the batch in CategoricalCrossentropy.value_impl",
          expected={'convolve': 'policy violation', 'crossentropy': 'policy violation'},
          phrases={'convolve': ('loop',), 'crossentropy': ('loop',)}),
    Entry('misha_row_helper.py',
          "Dense.forward_impl calls a module-level helper that loops over the rows; convolve_numpy imports "
          "scipy.signal (inside the function) and uses fftconvolve",
          expected={'dense': 'policy violation', 'convolve': 'policy violation'},
          phrases={'dense': ('loop',), 'convolve': ('scipy',)}),
    # ------------------------------------------------------------------ the 2022/23 template
    Entry('nina_2022_dense.py',
          "written for the 2022/23 template: Dense.build creates weights of shape (input_units, output_units) "
          "and forward/backward use that orientation; everything else right",
          expected={'dense': 'wrong answer'},
          phrases={'dense': ('weights', '(output_units, input_units)')}),
    # ------------------------------------------------------------------ a loop AND a wrong value
    Entry('oleg_pool_loop_and_bug.py',
          "Pooling2D.forward_impl loops over the channels, and the average-pooling gradient is not divided by "
          "the window size: the report must show both",
          expected={'pooling2d': 'policy violation'},
          phrases={'pooling2d': ('loop', 'inputs_grad')},
          wrong_values=('pooling2d',)),
    # ------------------------------------------------------------------ student code leaning on the kit code around it
    Entry('pavel_return_after_region.py',
          "correct (denis's layers); train_mnist_model's region builds and fits a 784-64-10 model and the "
          "`return model` stands AFTER the region, in kit code (a template version whose region holds no return)",
          passes_mnist=True),
    Entry('roman_2019_private_lr.py',
          "correct; the 2019 template's optimisers: `self._lr = lr` in SGD.__init__, `self._lr`/`self._momentum` "
          "in SGDMomentum.__init__ (kit code), and the regions read those names",),
    Entry('sveta_nonlocal_velocity.py',
          "correct; SGDMomentum binds `velocity = np.zeros(parameter_shape)` in kit code before `def updater`, and "
          "the region says `nonlocal velocity` (the template's updater.inertia left unused)"),
    Entry('timur_convolve_no_asserts.py',
          "correct; convolve_numpy's markers deleted together with the kit's asserts and the 'Don't change' "
          "comment above them: the body is the student's own (im2col with sliding_window_view and tensordot)"),
    Entry('ulyana_from_scratch.py',
          "correct, rewritten from scratch in the course's API with no markers and no docstrings: self.padding set "
          "in Conv2D.__init__, `shape=(self.output_units, input_units)` in Dense.build, its own Conv2D/BatchNorm "
          "build expressions (`(self.output_channels, d, k, k)`, `self.input_shape[:1]`), SGDMomentum's inertia "
          "in a dict bound in get_parameter_updater around updater"),
    # ------------------------------------------------------------------ breaking the layer contract
    Entry('vadim_double_update.py',
          "Dense, Conv2D and BatchNorm call `self.update_parameters()` at the end of backward_impl: with the "
          "model's own update after backward every step moves the parameters twice",
          expected={'dense': 'wrong answer', 'conv2d': 'wrong answer', 'batchnorm': 'wrong answer'},
          phrases={'dense': ('update',), 'conv2d': ('update',), 'batchnorm': ('update',)}),
    Entry('yana_conv_accumulate.py',
          "Conv2D gradients accumulate (`self.kernels_grad += ...`, `self.biases_grad += ...`: right on the first "
          "backward only); everything else right",
          expected={'conv2d': 'wrong answer'},
          phrases={'conv2d': ('kernels_grad',)}),
    Entry('zhenya_decay_in_forward.py',
          "weight decay inside Dense.forward_impl (`self.weights *= 1 - 1e-3` when training): forward moves a "
          "parameter (and the outputs use the shrunk weights)",
          expected={'dense': 'wrong answer'},
          phrases={'dense': ('forward', 'weights')}),
    # ------------------------------------------------------------------ the 2022/23 template, trained on MNIST
    Entry('polina_2023_docstrings.py',
          "the 2022/23 template's docstring style (no blank line before :return, the 'n - batch size' notes on "
          "one line under each :param/:return) and its Dense orientation `(input_units, output_units)`; a "
          "784-100-10 train_mnist_model (consistent in that orientation, so it trains)",
          expected={'dense': 'wrong answer'},
          phrases={'dense': ('weights', '(output_units, input_units)')},
          passes_mnist=True),
)

BY_FILE = {entry.file: entry for entry in ENTRIES}
