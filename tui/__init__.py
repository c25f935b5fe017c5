"""segscope's terminal interface: the Textual app and the headless command.

Installed as `segscope.tui` (the folder is tui/ in the repository); importing it as plain `tui`
is refused, so that no module is ever loaded twice under two names.
"""

if __name__ != "segscope.tui":
    raise ImportError(f"import segscope.tui, not {__name__} (segscope has one import root)")
