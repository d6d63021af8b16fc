"""Responsibility and delivery: areas, rules, who is responsible, delivery to departments."""
