"""Realistic mistakes in the autoencoder assignment: each is the reference with a small edit.

Each mutant must lose its own section, and only that one, when graded.  The mistakes themselves (section,
edits, the hint for the student) are the assignment's catalogue, assignments/autoencoder/mistakes.toml; this
module gives them the form and the labels the grader tests know them by (``Mutant``, tests/support/mutants.py).
"""
import assignments
from grader.mistakes import load_mistakes
from tests.support.mutants import Mutant

CATALOGUE = assignments.get('autoencoder').catalogue

# the labels the tests (and their ids) have known the mistakes by; a new catalogue entry goes by its name
LABELS = {
    'activations/sigmoid-second-deriv-is-first': "sigmoid's second derivative is the first one",
    'activations/tanh-deriv-not-squared': "tanh' = 1 - tanh (the square forgotten)",
    'activations/tanh-second-deriv-sign': "tanh'' with the wrong sign",
    'activations/leaky-relu-fixed-alpha': "LeakyReLU ignores its alpha",
    'activations/softplus-not-complex': "softplus through np.logaddexp (no complex inputs)",
    'activations/relu-through-abs': "ReLU through np.abs (wrong for complex inputs)",
    'fclayer/forward-without-bias': "forward ignores the bias column",
    'fclayer/backward-without-deriv': "backward forgets g'(u)",
    'fclayer/weights-grad-averaged': "weight gradient averaged over the batch",
    'fclayer/inputs-grad-through-bias': "input gradient through the bias column too",
    'rp/forward-without-direction-term': "R_p forward without the P z_bar term",
    'rp/forward-without-weights-term': "R_p forward without the W R{z} term",
    'rp/backward-without-second-deriv': "R_p backward without the g'' term",
    'rp/inputs-grad-without-direction-term': "R_p backward without P^T dL/du",
    'rp/weights-grad-without-rp-inputs-term': "R_p weight gradient without dL/du R{z_bar}^T",
    'loss/summed-over-batch': "loss and gradient summed over the batch, not averaged",
    'loss/residual-sign': "gradient of the wrong sign (x - z)",
    'loss/absolute-value': "np.abs in the loss (the complex step sees nothing)",
    'hessvec/gauss-newton-instead': "the Gauss-Newton product instead of the Hessian's",
    'hessvec/not-divided-by-batch': "Hessian-vector product not divided by the batch size",
    'gaussnewton/hessian-instead': "the Hessian product instead of the Gauss-Newton one",
    'gaussnewton/not-divided-by-batch': "Gauss-Newton product not divided by the batch size",
    'sgd/ascent': "ascent instead of descent",
    'momentum/velocity-never-decays': "velocity never decays",
    'rmsprop/no-square-root': "RMSprop without the square root",
    'adam/no-bias-correction': "Adam without bias correction",
    'adam/moments-restart': "Adam's moments restart every step",
}

MISTAKES = load_mistakes(CATALOGUE)
MUTANTS = tuple(Mutant(mistake.section, LABELS.get(mistake.name, mistake.name), mistake.edits) for mistake in MISTAKES)
