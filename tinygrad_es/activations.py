"""Activation functions: each its own op, formula and derivative side by side."""
