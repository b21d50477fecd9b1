"""Pytest fixtures for the Cascade emulator (filled in with the emulator)."""
