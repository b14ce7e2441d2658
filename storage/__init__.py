"""Models, repositories, migrations and the roster/plan importers."""
