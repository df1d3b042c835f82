"""What every file of the autoencoder corpus is, and the verdict each of its ten unit sections must get.

The corpus holds solutions of the second assignment ("Automatic differentiation for an
autoencoder", assignments/autoencoder/handout.md) written the way students write them:
each file is the student template (``make_template`` of the reference) with its
``# Your code here`` regions filled in, sometimes with helpers, imports, comments and
docstrings of the student's own.

Verdicts are what is RIGHT under the grader's default configuration, whatever a given
grader version says:

* a Python loop over objects, units or parameters in a layer, loss or optimizer
  computation, wherever it hides (a module-level helper, a comprehension): 'policy
  violation', and the text says 'loop'; the kit's loops over layers, epochs and
  minibatches are not the student's;
* an import of a forbidden module (scipy, torch, os, ...): 'policy violation' naming the
  module; the pure standard library (copy, math, collections, ...) is allowed;
* an exception on a valid input (complex ones included: the handout asks every function to
  accept them): 'runtime error';
* a wrong value: 'wrong answer'.  A rule of the handout that the hidden cases may not
  exercise still counts: the optimiser's ``state`` "starts empty at every call of run_...",
  so a state that survives into a second run on the same model is a wrong answer.

Every 'passed' section was checked in-process against the reference on the hidden cases
and on a second run of each optimiser on the same model (tests/autoencoder/test_corpus_autoencoder.py
::test_ground_truth repeats that check), and every bug gives a wrong value or raises there.
"""
from tests.support.corpus_support import VERDICTS, Entry  # noqa: F401 - VERDICTS: read from here by the tests


ENTRIES = (
    # ------------------------------------------------------------------ correct in every unit section
    Entry('alina_einsum.py',
          "correct: np.einsum everywhere, module-level helpers _add_ones/_add_zeros, `import math` (math.pow in "
          "Adam), comments in Russian, forward keeps self.x and self.g_prime and backward self.delta besides the "
          "required attributes (the R_p passes use them), ReLU as X * (X.real > 0), softplus via np.log1p(np.exp(X))"),
    Entry('boris_dot.py',
          "correct: .dot, a helper method FCLayer._bar, self.z_bar, docstrings rewritten or deleted, compute_loss "
          "keeps self.n for compute_hessvec and compute_gaussnewtonvec, momentum as v = mu v - lr g, w + v in a "
          "dict inside state, Adam counting state['t'] itself, sigmoid through tanh, tanh' = 1/cosh^2"),
    Entry('vera_stdlib.py',
          "correct: module docstring replaced, `import copy`, `import math`, a collections.namedtuple cache of "
          "z_bar, g' and g'' kept by forward, FCLayer docstrings deleted, copy.deepcopy in SGD, in-place momentum, "
          "Adam in the paper's efficient form (the bias corrections folded into the step size and eps)"),
    Entry('lena_maximum.py',
          "ReLU as np.maximum(X, 0) and LeakyReLU as np.maximum(X, alpha X): right on the hidden cases, complex "
          "ones included (numpy orders complex numbers by their real part first); the Gauss-Newton product "
          "divided by the batch size twice",
          expected={'gaussnewton': 'wrong answer'},
          phrases={'gaussnewton': ('product',)}),
    # ------------------------------------------------------------------ real bugs
    Entry('dima_logaddexp.py',
          "softplus as np.logaddexp(0, X) (stable, but the ufunc takes no complex inputs: TypeError); the R_p "
          "backward pass multiplies by g'(u) where g''(u) belongs",
          expected={'activations': 'runtime error', 'rp': 'wrong answer'},
          phrases={'activations': ('TypeError', 'logaddexp'), 'rp': ('Rp_inputs_derivs',)}),
    Entry('egor_mean.py',
          "the loss as 0.5 * np.mean(error * error) and its gradient divided by error.size (n * D, not n); "
          "compute_hessvec never calls set_direction (it runs the R_p passes in the layers' old direction)",
          expected={'loss': 'wrong answer', 'hessvec': 'wrong answer'},
          phrases={'loss': ('loss',), 'hessvec': ('product',)}),
    Entry('fedya_rms_self.py',
          "RMSprop keeps its running mean square on the model (self.mean_square), so a second run_rmsprop starts "
          "from the first one's state; Adam overwrites its moments with the bias-corrected ones",
          expected={'rmsprop': 'wrong answer', 'adam': 'wrong answer'},
          phrases={'rmsprop': ('weights',), 'adam': ('weights',)}),
    Entry('misha_complex.py',
          "z_bar built by filling np.ones((p + 1, n)) (a real array: the complex forward loses its imaginary "
          "part); the loss through np.linalg.norm (not analytic: the complex step sees nothing)",
          expected={'fclayer': 'wrong answer', 'loss': 'wrong answer'},
          phrases={'fclayer': ('complex', 'outputs'), 'loss': ('loss.imag',)}),
    # ------------------------------------------------------------------ rule breaking
    Entry('galya_scipy.py',
          "sigmoid through `from scipy.special import expit` inside SigmoidActivationFunction.val (expit also "
          "rejects complex inputs, but the sandbox refuses the import before that shows); FCLayer.backward's weight gradient transposed (z_bar delta^T: the right size, "
          "the wrong order)",
          expected={'activations': 'policy violation', 'fclayer': 'wrong answer'},
          phrases={'activations': ('scipy',), 'fclayer': ('weights_grad',)},
          wrong_values=('activations',)),
    Entry('kolya_loops.py',
          "FCLayer.forward loops over the units (one row of u at a time); compute_loss loops over the objects "
          "(columns) of the batch; RMSprop's step through a module-level helper with a list comprehension over "
          "the parameters; the values are right",
          expected={'fclayer': 'policy violation', 'loss': 'policy violation', 'rmsprop': 'policy violation'},
          phrases={'fclayer': ('loop',), 'loss': ('loop',), 'rmsprop': ('loop',)}),
)

BY_FILE = {entry.file: entry for entry in ENTRIES}
