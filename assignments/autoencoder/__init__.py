"""The second assignment: automatic differentiation for an autoencoder (R_p passes, Hessian-vector products)."""
