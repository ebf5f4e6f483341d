"""Squashed migrations: a new database is made through each app's squash, an existing one was migrated
through the migrations it replaces; both must end with the same models."""

from __future__ import annotations

from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ModelState


def _stated(state: ModelState) -> ModelState:
    """The model as stated, without `abstract: False`, which only some migrations spell out."""
    state = state.clone()
    if not state.options.get("abstract", True):
        del state.options["abstract"]
    return state


def test_each_squash_ends_with_the_models_of_the_migrations_it_replaces():
    squashed = MigrationLoader(None, replace_migrations=True)
    replaced = MigrationLoader(None, replace_migrations=False)
    squashes = [m for m in squashed.disk_migrations.values() if m.replaces]
    assert squashes
    for migration in squashes:
        assert (migration.app_label, migration.name) in squashed.graph.nodes
        assert all(key in replaced.graph.nodes for key in migration.replaces)
    apps = {m.app_label for m in squashes}
    new, old = squashed.project_state().models, replaced.project_state().models
    assert {k for k in new if k[0] in apps} == {k for k in old if k[0] in apps}
    for key in new:
        if key[0] in apps:
            assert _stated(new[key]) == _stated(old[key]), key
