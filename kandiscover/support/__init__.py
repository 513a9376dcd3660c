"""Support layer: what every other layer may use and which imports nothing else of kandiscover.

``progress``: progress bars; ``timeout``: hard time limits for sympy; ``params``: parameter checks
with one error style; ``jsonsafe``: plain-JSON values; ``threads``: one thread limit for torch and
BLAS.
"""
