"""Modal dialogs. The window opens every one through ``implant_desk.app.dialogs.ask`` (plain values in and out),
so tests replace those functions instead of clicking through modal loops."""
