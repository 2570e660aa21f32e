"""The demo's tests: the generated books read back, their late fees checked against the product."""
