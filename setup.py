"""Build hook: a wheel carries what the server reads besides its code.

``pyproject.toml`` holds the project's metadata; this only adds, at ``build_py``, the
compiled translation catalogues (``messages.mo``, never committed) and a copy of the
top-level ``schemas/`` (OpenAPI, edXML XSD) inside the package, where
:mod:`docexchange.resources` finds them in an installed wheel.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithResources(build_py):  # type: ignore[misc]
    """``build_py``, then the catalogues compiled and the schemas copied into the build."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo  # noqa: PLC0415 - a build requirement
        from babel.messages.pofile import read_po  # noqa: PLC0415

        package = Path(self.build_lib) / "docexchange"
        for source in sorted((ROOT / "docexchange" / "translations").glob("*/LC_MESSAGES/*.po")):
            target = package / source.relative_to(ROOT / "docexchange").with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as handle:
                catalogue = read_po(handle, locale=source.parent.parent.name)
            with target.open("wb") as handle:
                write_mo(handle, catalogue)
        schemas = package / "schemas"
        shutil.rmtree(schemas, ignore_errors=True)
        shutil.copytree(ROOT / "schemas", schemas)


setup(cmdclass={"build_py": BuildWithResources})
