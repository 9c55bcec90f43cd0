"""Tests: define."""
