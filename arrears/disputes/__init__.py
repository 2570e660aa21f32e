"""Disputes and the account analysis."""
