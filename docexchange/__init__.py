"""docexchange: paperless exchange of signed official documents between government units.

This package root carries only the version, so that importing the domain, the CLI or a
worker never pulls in the web stack.
"""

__version__ = "0.1.0"
