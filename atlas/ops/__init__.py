"""Running the dashboard for a network month after month, from the command line: the inbox refresh
(`refresh`), the packs delivered by e-mail (`deliver`), backups (`backup`), the one-line status a
monitor reads (`status`), and the e-mail they share (`mail`), with the records they keep beside the
database (`records`).

Layer: the commands (docs/architecture.md), beside `atlas/cli.py`, which parses the arguments and
calls these. They draw on the import side, the views and the packs, and nothing below imports them;
where they keep their records is a setting (`atlas.config.refresh_log`, `atlas.config.delivery_log`), so
the Data page can show the last refresh without importing this package.
"""
