"""`python -m kartoteka` is the `kartoteka` command."""

from kartoteka.cli import main

main()
