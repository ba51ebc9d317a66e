"""The day loop: state as columns, one method per phase, sampling of rare events."""
