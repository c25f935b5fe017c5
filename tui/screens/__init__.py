"""The app's screens: data, sweep, segments, export, and dialogs."""
