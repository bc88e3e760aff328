"""The unit directory: units, the tree, whole-tree import/export, groups and selectors.

One module per concern: :mod:`.units` (one unit: read, create, change), :mod:`.tree` (the whole
tree imported and exported, CSV or JSON), :mod:`.groups` (recipient groups) and
:mod:`.selectors` (subtrees and recipient selectors expanded to units).
"""

from __future__ import annotations

from docexchange.services.directory.groups import (
    create_group,
    delete_group,
    get_group,
    list_groups,
    update_group,
)
from docexchange.services.directory.selectors import (
    resolve_recipients,
    subtree_codes,
    subtree_select,
)
from docexchange.services.directory.tree import (
    ImportResult,
    export_tree,
    import_file,
    import_tree,
    parse_import,
    render_export,
)
from docexchange.services.directory.units import (
    EXPORT_FIELDS,
    UnitInput,
    child_counts,
    create_unit,
    get_unit,
    list_units,
    named,
    unit_fields,
    unit_name,
    update_unit,
)

__all__ = [
    "EXPORT_FIELDS",
    "ImportResult",
    "UnitInput",
    "child_counts",
    "create_group",
    "create_unit",
    "delete_group",
    "export_tree",
    "get_group",
    "get_unit",
    "import_file",
    "import_tree",
    "list_groups",
    "list_units",
    "named",
    "parse_import",
    "render_export",
    "resolve_recipients",
    "subtree_codes",
    "subtree_select",
    "unit_fields",
    "unit_name",
    "update_group",
    "update_unit",
]
