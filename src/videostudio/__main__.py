"""``python -m videostudio`` runs the CLI."""

from videostudio.cli import main

main()
