"""The ``h5swmr`` command line: ``main.py`` dispatches to one module per subcommand."""
