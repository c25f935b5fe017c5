"""The app's screens: data, sweep, segments, export, score, and dialogs."""
