"""Run the command line as `python -m factbook`."""

from factbook.cli import run

run()
