"""The admin page (/admin): users, wall tokens, the platform check and the audit trail."""
