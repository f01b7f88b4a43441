"""Warnings (预警): drafted, approved and published by different people, released as CAP 1.2
alerts and public feeds, imported from other bureaus; lifted, cancelled or expired."""
