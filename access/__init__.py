"""Who may see and do what: people and walls signed in, their roles and areas, the audit trail.

Sits above the pages (it knows which page module registered each callback) and below
``app.py``, which installs it on the server.
"""
