"""Database access shared by every service: engines per service schema, migrations, unit of work."""
