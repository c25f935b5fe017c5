"""segscope's terminal interface: the Textual app and the headless command line."""
