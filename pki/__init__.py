"""Tokens, certificates, signing, validation and trust (PKCS#11 via pyHanko).

Reusable without Flask and without docexchange: it never imports ``docexchange``. Its
contents arrive with the signing and verification work; only the package boundary exists
so far, and the import contracts already guard it.
"""

__all__: list[str] = []
