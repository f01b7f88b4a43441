"""Index declarations whose form differs between the backends, for the models.

Alembic compares these with the migrations (``alembic check``), so a model states an index
once, here in the words both backends need, and never names a dialect itself.
"""

from sqlalchemy import Index, text


def partial_index(name, *columns, where, unique=False):
    """An index of the rows matching ``where`` (SQL text both backends understand)."""
    return Index(name, *columns, unique=unique, postgresql_where=text(where),
                 sqlite_where=text(where))


def knn_index(name, *columns):
    """A GiST index over plain columns and a geometry (btree_gist), so that PostGIS's KNN
    scan filtered on the plain columns walks only the matching rows.

    SQLite has no use for it (its R*Tree ``SpatialIndex`` does the spatial work), so there
    the index is declared empty (``WHERE 0``).
    """
    return Index(name, *columns, postgresql_using="gist", sqlite_where=text("0"))
