"""Notifications: an outbox written with each change, delivered by a job over WeChat (or the log), exactly once."""
