"""Promises to pay and payment plans."""
