"""`python -m petcare_dba.cli`: the same entry point as the `petcare-dba` script."""

from petcare_dba.cli import main

main()
