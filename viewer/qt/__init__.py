"""Qt desktop application (PySide6 + pyvistaqt). Private: use ``run_app`` or the CLI."""
