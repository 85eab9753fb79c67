"""The session guard watches the folders the app would use for the real user, and notices a write there."""

from __future__ import annotations

from implant_desk.core import paths

from user_folders import FolderWatch, real_user_folders


def test_the_guard_watches_the_apps_own_user_folders(monkeypatch):
    monkeypatch.delenv("IMPLANT_DESK_HOME")
    assert real_user_folders() == (paths.user_data_dir(), paths.user_config_dir(), paths.user_cache_dir())


def test_a_file_written_changed_or_removed_under_a_watched_folder_is_named(tmp_path):
    config = tmp_path / "config"
    watch = FolderWatch((tmp_path / "data", config))
    assert watch.changes() == []
    config.mkdir()
    (config / "settings.json").write_text("{}")
    assert watch.changes() == [str(config), str(config / "settings.json")]
    (config / "settings.json").write_text('{"last_folder": "/tmp/pytest-of-user/x"}')
    assert watch.changes() == [str(config / "settings.json")]
    (config / "settings.json").unlink()
    assert str(config / "settings.json") in watch.changes()
