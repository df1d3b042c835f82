"""The second assignment: automatic differentiation for an autoencoder (R_p passes, Hessian-vector products)."""
from assignments import Assignment

ASSIGNMENT = Assignment('autoencoder', 'Automatic differentiation for an autoencoder', __name__)
