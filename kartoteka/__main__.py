"""`python -m kartoteka` is the `kartoteka` command."""

from kartoteka.cli import main

# Guarded: worker processes (search index writers, started by a fork server) import the main
# module again, and must not run the command a second time.
if __name__ == "__main__":
    main()
