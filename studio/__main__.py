"""``python -m studio``. Nothing at module level: a spawned training child re-imports this module."""

if __name__ == "__main__":
    from studio.app import main

    raise SystemExit(main())
