"""CLI subcommands that compose several subsystems."""
