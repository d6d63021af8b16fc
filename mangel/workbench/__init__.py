"""Staff workbench: inbox, report page, actions, bulk, followers, templates, statistics."""
