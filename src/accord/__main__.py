"""``python -m accord``: the same command line as ``accord``."""

if __name__ == "__main__":  # not when a spawned demo agent re-imports this module
    from accord.surfaces.cli import main

    main(prog_name="accord")
