from django.apps import AppConfig

# the engine's own metadata kinds (registered below; apps register theirs in their ready())
ENGINE_KINDS = ("dictionaries", "fields", "layouts", "lists", "workflows")


class LowcodeConfig(AppConfig):
    name = "lowcode"
    verbose_name = "业务配置（低代码）"

    def ready(self):
        from lowcode import signals  # noqa: F401  (bumps the metadata version on every save)
        from lowcode.fieldtypes import install_model_bounds
        from lowcode.forms import guard_autocomplete_ids

        _register_kinds()
        install_model_bounds()  # input bounds on every model form (lowcode.fieldtypes)
        guard_autocomplete_ids()  # a tampered related id re-renders as a form error, not a 500


def _register_kinds():
    """The engine's own metadata kinds (lowcode.metakinds)."""
    from lowcode.metakinds import Children, register
    from lowcode.serialization import JSON_KEY_ORDER

    register("dictionaries", model="lowcode.Dictionary", file="dictionaries.yaml", key=("code",),
             children=Children(model="lowcode.DictItem", parent_fk="dictionary", tree_fk="parent"))
    register("fields", model="lowcode.FieldDef", file="fields.yaml", key=("entity", "code"),
             after=("dictionaries",), codes={"dictionary": "code"}, dump_order=("entity", "idx", "code"))
    register("layouts", model="lowcode.FormLayout", file="layouts.yaml",
             key=("entity", "screen", "scope_value", "role"), json_key_order=JSON_KEY_ORDER)
    register("lists", model="lowcode.ListView", file="lists.yaml", key=("entity", "role"))
    register("workflows", model="lowcode.Workflow", file="workflows.yaml", key=("entity", "scope_value"),
             json_key_order=JSON_KEY_ORDER)
