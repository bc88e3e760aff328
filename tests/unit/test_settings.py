"""Settings come from DOCEXCHANGE_* variables and the instance folder, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from docexchange.errors import ConfigurationError
from docexchange.settings import DEMO_MARKER_FILE, ensure_secret_key, load_settings


def test_embedded_defaults_live_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings({"DOCEXCHANGE_INSTANCE": str(tmp_path)})
    assert settings.instance_dir == tmp_path.resolve()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'docexchange.sqlite3'}"
    assert settings.blob_dir == tmp_path.resolve() / "blobs"
    assert settings.secret_key == ""
    assert settings.demo_mode is False


def test_values_are_read_and_converted(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DOCEXCHANGE_INSTANCE": str(tmp_path),
            "DOCEXCHANGE_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "DOCEXCHANGE_MAX_UPLOAD_BYTES": "1024",
            "DOCEXCHANGE_DEMO": "yes",
            "PATH": "/usr/bin",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.max_upload_bytes == 1024
    assert settings.demo_mode is True
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("env", "code"),
    [
        ({"DOCEXCHANGE_TYPO": "1"}, "config_unknown_variable"),
        ({"DOCEXCHANGE_MAX_UPLOAD_BYTES": "lots"}, "config_invalid_value"),
        ({"DOCEXCHANGE_MAX_UPLOAD_BYTES": "-5"}, "config_invalid_value"),
        ({"DOCEXCHANGE_DEMO": "maybe"}, "config_invalid_value"),
    ],
)
def test_bad_configuration_stops_start_up(env: dict[str, str], code: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(env)
    assert info.value.code == code


def test_secret_key_file_is_private_and_stable(tmp_path: Path) -> None:
    key = ensure_secret_key(tmp_path)
    assert len(key) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert ensure_secret_key(tmp_path) == key
    assert load_settings({"DOCEXCHANGE_INSTANCE": str(tmp_path)}).secret_key == key


def test_settings_repr_hides_the_secret(tmp_path: Path) -> None:
    ensure_secret_key(tmp_path)
    settings = load_settings({"DOCEXCHANGE_INSTANCE": str(tmp_path)})
    assert settings.secret_key not in repr(settings)


def test_demo_marker_turns_on_demo_mode(tmp_path: Path) -> None:
    (tmp_path / DEMO_MARKER_FILE).write_text("demo\n")
    assert load_settings({"DOCEXCHANGE_INSTANCE": str(tmp_path)}).demo_mode is True
