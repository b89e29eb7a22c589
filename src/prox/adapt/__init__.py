"""Adapting refining models to a domain: label with a teacher, derive programs from labels, fine-tune, evaluate."""
