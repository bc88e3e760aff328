"""The only package that imports Flask: app factory, blueprints, templates, i18n."""
